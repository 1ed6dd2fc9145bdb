# shellcheck shell=bash
# What bin/compile (classic) and bin/build (CNB) share: the build's first line, the one config
# var the shell reads, the copy of the helper package, and the lister process. Needs
# BUILDPACK_DIR and lib/output.sh.

# The build's first line, whatever follows: this buildpack and its version, then what it does.
# The version is read from herokuify_buildpack/__init__.py, where it is set, by bash alone, so
# that a build that stops before there is a Python still says which release it ran.
helper::header() {
	local what="$1"
	local line version=""
	while IFS= read -r line; do
		if [[ "${line}" =~ ^__version__\ =\ \"([^\"]+)\"$ ]]; then
			version="${BASH_REMATCH[1]}"
			break
		fi
	done <"${BUILDPACK_DIR}/herokuify_buildpack/__init__.py"
	output::step "herokuify-buildpack ${version}: ${what}"
}

# HEROKUIFY_DISABLE is the one config var read here, so that a disabled buildpack needs no
# Python at all; herokuify_buildpack/config.py lists it with the others.
helper::config_var_is() {
	local env_dir="$1" name="$2" expected="$3"
	# Symlinks are not config vars, here as in the helper's reading of the folder.
	[[ -f "${env_dir}/${name}" && ! -L "${env_dir}/${name}" ]] &&
		[[ "$(<"${env_dir}/${name}")" == "${expected}" ]]
}

# A plain copy into a folder of the app's Python path: the helper is pure Python, so this needs
# neither network nor a build backend.
helper::install() {
	local target="$1" cache_dir="${2:-}"
	mkdir -p "${target}"
	rm -rf "${target}/herokuify_buildpack"
	mkdir "${target}/herokuify_buildpack"
	# "/.": what the folder holds, also where it is a link (cnb-prepare's, in this repository).
	cp -R "${BUILDPACK_DIR}/herokuify_buildpack/." "${target}/herokuify_buildpack"
	find "${target}/herokuify_buildpack" -name __pycache__ -prune -exec rm -rf {} +
	# The last build's bytecode, checked against each source's hash (herokuify_buildpack/bytecode.py).
	if [[ -n "${cache_dir}" && -d "${cache_dir}/herokuify/bytecode" ]]; then
		cp -R "${cache_dir}/herokuify/bytecode/." "${target}/herokuify_buildpack"
		rm -f "${target}/herokuify_buildpack/.sources"
	fi
}

# Checks the bucket and lists static/ in a process of its own, started before anything else: on
# a redeploy that changes nothing, S3's answer is the build's longest wait. It runs from the
# buildpack's own copy of the helper, which need not be installed yet. The build reads its
# answers on file descriptor 3. Its stderr goes to a file, not to the build's output, which it
# must not hold open if the build ends first; the build shows the file's last lines if it fails.
helper::start_lister() {
	local python="$1" cache_dir="$2" env_dir="$3" log="$4"
	local code='import sys; sys.path.insert(0, sys.argv[1]); from herokuify_buildpack.platforms.listerprocess import main; sys.exit(main(sys.argv[2:]))'
	mkdir -p "${cache_dir}"
	exec 3< <("${python}" -I -c "${code}" "${BUILDPACK_DIR}" "${cache_dir}" "${env_dir}" 2>"${log}")
}
