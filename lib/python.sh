# shellcheck shell=bash
# The Python that heroku/python left in the slug: PATH (from its export file) if it points into the
# build, else the usual BUILD_DIR/.heroku/python. A Python outside the slug would not reach the dyno.

python::find_slug_python() {
	local build_dir="$1"
	local candidate resolved_build
	resolved_build="$(cd "${build_dir}" && pwd -P)"
	candidate="$(command -v python3 || true)"
	if [[ "${candidate}" == "${build_dir}"/* || "${candidate}" == "${resolved_build}"/* ]]; then
		echo "${candidate}"
		return 0
	fi
	candidate="${build_dir}/.heroku/python/bin/python3"
	if [[ -x "${candidate}" ]]; then
		echo "${candidate}"
		return 0
	fi
	return 1
}

# Where pip installs for that Python. Read from its layout (PREFIX/lib/pythonX.Y/site-packages,
# as heroku/python and venvs have it) when exactly one such folder is there, which saves a
# Python start on every build's critical path. Otherwise Python says.
python::site_packages() {
	local python="$1"
	local found=("${python%/bin/*}"/lib/python3.*/site-packages)
	if ((${#found[@]} == 1)) && [[ -d "${found[0]}" ]]; then
		echo "${found[0]}"
		return 0
	fi
	"${python}" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'
}
