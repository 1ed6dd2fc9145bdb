#!/usr/bin/env bats
# bin/detect: a Django app has manage.py at most 3 levels down.

load helpers

setup() {
	make_dirs
}

@test "detects a Django app with manage.py at the root" {
	copy_fixture minimal
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 0 ]
	[ "${output}" = "herokuify (Django static and media on S3)" ]
}

@test "detects a Django app whose manage.py is in a subfolder" {
	copy_fixture subfolder
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 0 ]
}

@test "detects manage.py three levels down, the deepest allowed" {
	mkdir -p "${BUILD_DIR}/a/b"
	touch "${BUILD_DIR}/a/b/manage.py"
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 0 ]
}

@test "rejects manage.py four levels down, with a one-line reason" {
	mkdir -p "${BUILD_DIR}/a/b/c"
	touch "${BUILD_DIR}/a/b/c/manage.py"
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${output}" == " !     herokuify: no manage.py"* ]]
}

@test "rejects an app that is not Django, with a one-line reason" {
	copy_fixture not-django
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${output}" == " !     herokuify: no manage.py"*"not a Django app" ]]
}

@test "ignores a manage.py inside installed packages under .heroku" {
	mkdir -p "${BUILD_DIR}/.heroku/python"
	touch "${BUILD_DIR}/.heroku/python/manage.py"
	run_clean "${REPO_DIR}/bin/detect" "${BUILD_DIR}"
	[ "${status}" -eq 1 ]
}

@test "as a CNB, passes in the app dir and leaves the build plan empty" {
	copy_fixture subfolder
	run_cnb_detect
	[ "${status}" -eq 0 ]
	[ ! -s "${PLAN}" ]
}

@test "as a CNB, fails with the spec's 100 for an app that is not Django" {
	touch "${BUILD_DIR}/requirements.txt"
	run_cnb_detect
	[ "${status}" -eq 100 ]
	[[ "${output}" == *"not a Django app"* ]]
}
