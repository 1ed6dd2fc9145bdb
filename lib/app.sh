# shellcheck shell=bash
# Where a Django app's manage.py is: at most 3 levels down, the shallowest first (as heroku/python looks).

app::find_manage_py() {
	local build_dir="$1"
	find "${build_dir}" -maxdepth 3 \
		\( -name .heroku -o -name .git -o -name node_modules -o -name .venv \) -prune \
		-o -type f -name manage.py -printf '%d\t%P\n' |
		sort -n -k1,1 | head -n 1 | cut -f2
}
