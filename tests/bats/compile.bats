#!/usr/bin/env bats
# bin/compile up to the hand-over to Python: the steps that need no S3 server.
# Full builds against S3 are in tests/python/e2e.

load helpers

setup() {
	make_dirs
	copy_fixture minimal
}

# The build's first line names the buildpack's version, as buildpack.toml gives it.
header() {
	local what="$1"
	local version
	version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["buildpack"]["version"])' "${REPO_DIR}/buildpack.toml")"
	echo "-----> herokuify-buildpack ${version}: ${what}"
}

@test "HEROKUIFY_DISABLE=1 skips the buildpack with one line of output" {
	printf '1' >"${ENV_DIR}/HEROKUIFY_DISABLE"
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${output}" == "$(header "skipped, because HEROKUIFY_DISABLE=1")" ]]
}

@test "fails without heroku/python's Python, and says how to add it" {
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 1 ]
	[[ "${lines[0]}" == "$(header "static and media files on S3")" ]]
	[[ "${output}" == *"heroku buildpacks:add --index 1 heroku/python"* ]]
}

@test "ignores a Python on PATH that is outside the build" {
	CLEAN_PATH="$(dirname "$(command -v python3)"):/usr/bin:/bin"
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 1 ]
	[[ "${output}" == *"no Python found in the build"* ]]
}

@test "with a Python lacking django-storages, fails with the line to add to requirements.txt" {
	python3 -m venv --without-pip "${BUILD_DIR}/.heroku/python"
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 1 ]
	[[ "${output}" == *"Add to requirements.txt:"* ]]
	[[ "${output}" == *$'\n !     django-storages[s3]>=1.14'* ]]
	# The helper was installed into the slug's Python all the same, with no network.
	[ -f "${BUILD_DIR}"/.heroku/python/lib/python3*/site-packages/herokuify_buildpack/storage.py ]
}

@test "config var values are never run by the shell" {
	python3 -m venv --without-pip "${BUILD_DIR}/.heroku/python"
	local marker="${BATS_TEST_TMPDIR}/ran"
	printf '$(touch %s)' "${marker}" >"${ENV_DIR}/HEROKUIFY_DISABLE"
	printf '`touch %s`' "${marker}" >"${ENV_DIR}/SECRET_KEY"
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ ! -e "${marker}" ]
}

@test "a step that fails is named once, with how to trace the build" {
	mkdir -p "${BUILD_DIR}/.heroku/python/bin"
	printf '#!/bin/sh\nexit 3\n' >"${BUILD_DIR}/.heroku/python/bin/python3"
	chmod +x "${BUILD_DIR}/.heroku/python/bin/python3"
	run_clean "${REPO_DIR}/bin/compile" "${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 3 ]
	[ "$(grep -c 'bin/compile failed while' <<<"${output}")" -eq 1 ]
	[[ "${output}" == *" !     herokuify: bin/compile failed while installing the helper into the slug's Python (exit status 3)."* ]]
	[[ "${output}" == *" !     Build again with BUILDPACK_XTRACE=1"* ]]
}

@test "BUILDPACK_XTRACE=1 traces each command of bin/compile" {
	printf '1' >"${ENV_DIR}/HEROKUIFY_DISABLE"
	run env -i PATH=/usr/bin:/bin BUILDPACK_XTRACE=1 "${REPO_DIR}/bin/compile" \
		"${BUILD_DIR}" "${CACHE_DIR}" "${ENV_DIR}"
	[ "${status}" -eq 0 ]
	[[ "${output}" == *"+ helper::config_var_is "* ]]
	[[ "${output}" == *"$(header "skipped, because HEROKUIFY_DISABLE=1")"* ]]
}

@test "site-packages is read from the Python's layout, else asked of the Python" {
	# shellcheck source=lib/python.sh
	source "${REPO_DIR}/lib/python.sh"
	local prefix="${BATS_TEST_TMPDIR}/python"
	mkdir -p "${prefix}/bin" "${prefix}/lib/python3.12/site-packages"
	printf '#!/bin/sh\necho asked\n' >"${prefix}/bin/python3"
	chmod +x "${prefix}/bin/python3"
	run python::site_packages "${prefix}/bin/python3"
	[ "${output}" == "${prefix}/lib/python3.12/site-packages" ]
	mkdir -p "${prefix}/lib/python3.13/site-packages"
	run python::site_packages "${prefix}/bin/python3"
	[ "${output}" == "asked" ]
}

@test "the helper's bytecode kept in CACHE_DIR is restored into the slug, its stamp left out" {
	# shellcheck source=lib/helper.sh
	source "${REPO_DIR}/lib/helper.sh"
	local BUILDPACK_DIR="${REPO_DIR}" target="${BATS_TEST_TMPDIR}/site-packages"
	mkdir -p "${CACHE_DIR}/herokuify/bytecode/__pycache__"
	printf 'bytecode' >"${CACHE_DIR}/herokuify/bytecode/__pycache__/core.cpython-312.pyc"
	printf 'stamp' >"${CACHE_DIR}/herokuify/bytecode/.sources"
	helper::install "${target}" "${CACHE_DIR}"
	[ "$(cat "${target}/herokuify_buildpack/__pycache__/core.cpython-312.pyc")" == "bytecode" ]
	[ -f "${target}/herokuify_buildpack/core.py" ]
	[ ! -e "${target}/herokuify_buildpack/.sources" ]
}
