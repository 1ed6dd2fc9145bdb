#!/usr/bin/env bash
# Usage: standin-collectstatic.sh EXPORT_FILE BUILD_DIR ENV_DIR
# The stand-in's run of heroku/python's collectstatic step (its bin/steps/collectstatic), in its
# order: the marker file, the config vars but those it withholds, DISABLE_COLLECTSTATIC, Django,
# manage.py at most 3 levels down; then the command, from BUILD_DIR with PYTHONPATH=., even
# without django.contrib.staticfiles. Its output is indented, blank lines included.
set -uo pipefail

# What buildpack-stdlib's export_env does not export.
WITHHELD='^(PATH|CPATH|CPPATH|LD_PRELOAD|LIBRARY_PATH|LD_LIBRARY_PATH|PYTHONHOME)$'

export_config_vars() {
	local env_dir="$1"
	local entry name
	while IFS= read -r -d '' entry; do
		name="${entry##*/}"
		[[ "${name}" =~ ${WITHHELD} ]] && continue
		[[ "${name}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
		export "${name}=$(cat "${entry}")"
	done < <(find "${env_dir}" -mindepth 1 -maxdepth 1 -print0 | sort -z)
}

django_installed() {
	python -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('django') else 1)"
}

main() {
	local export_file="$1" build_dir="$2" env_dir="$3"
	local manage status
	# shellcheck source=/dev/null
	source "${export_file}"
	cd "${build_dir}" || exit 1
	if [[ -f .heroku/collectstatic_disabled ]]; then
		echo "-----> Skipping Django collectstatic since the file '.heroku/collectstatic_disabled' exists."
		return 0
	fi
	export_config_vars "${env_dir}"
	if [[ "${DISABLE_COLLECTSTATIC:-0}" != "0" ]]; then
		echo "-----> Skipping Django collectstatic since the env var DISABLE_COLLECTSTATIC is set."
		return 0
	fi
	django_installed || return 0
	manage="$(find . -maxdepth 3 -type f -name manage.py -printf '%d\t%P\n' | sort -nk1 | cut -f2 | head -1)"
	if [[ ! -f "${manage:-fakepath}" ]]; then
		echo "-----> Skipping Django collectstatic since no manage.py file found."
		return 0
	fi
	echo "-----> \$ python ${manage} collectstatic --noinput"
	export PYTHONPATH="${PYTHONPATH:-.}"
	python "${manage}" collectstatic --noinput --traceback 2>&1 | sed -u 's/^/       /'
	status="${PIPESTATUS[0]}"
	echo
	return "${status}"
}

main "$@"
