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

python::site_packages() {
	local python="$1"
	"${python}" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'
}
