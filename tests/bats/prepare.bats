#!/usr/bin/env bats
# cnb-prepare's bin/detect and bin/build: herokuify/django-s3-prepare, the CNB before heroku/python.

load helpers

PREPARE_DIR="${REPO_DIR}/cnb-prepare"

setup() {
	make_dirs
	LAYERS_DIR="${BATS_TEST_TMPDIR}/layers/herokuify_django-s3-prepare"
	PLATFORM_DIR="${BATS_TEST_TMPDIR}/platform"
	ENV_DIR="${PLATFORM_DIR}/env" # the config vars, as CNB platforms give them
	mkdir -p "${LAYERS_DIR}" "${ENV_DIR}"
	BUILD_ENV="${LAYERS_DIR}/collect-settings/env.build"
}

# As the lifecycle runs it: in the app dir, with a clean environment and CNB_* set.
run_prepare() {
	local script="$1"
	cd "${BUILD_DIR}" || return 1
	run env -i PATH=/usr/bin:/bin CNB_BUILDPACK_DIR="${PREPARE_DIR}" \
		CNB_LAYERS_DIR="${LAYERS_DIR}" CNB_PLATFORM_DIR="${PLATFORM_DIR}" \
		CNB_BUILD_PLAN_PATH="${BATS_TEST_TMPDIR}/plan.toml" "${PREPARE_DIR}/bin/${script}"
}

@test "detect passes for a Django app, as herokuify/django-s3 does, and fails with 100 otherwise" {
	copy_fixture subfolder
	run_prepare detect
	[ "${status}" -eq 0 ]
	rm -rf "${BUILD_DIR:?}"/*
	touch "${BUILD_DIR}/requirements.txt"
	run_prepare detect
	[ "${status}" -eq 100 ]
	[[ "${output}" == *"not a Django app"* ]]
}

@test "build makes a build-only layer that points heroku/python's collectstatic at the overlay" {
	copy_fixture minimal
	run_prepare build
	[ "${status}" -eq 0 ]
	[ "$(cat "${LAYERS_DIR}/collect-settings.toml")" = $'[types]\nbuild = true' ]
	[ "$(cat "${BUILD_ENV}/DJANGO_SETTINGS_MODULE.override")" = "herokuify_buildpack.platforms.cnbsettings" ]
	[ "$(cat "${BUILD_ENV}/HEROKUIFY_BUILDING.override")" = "1" ]
	[ "$(cat "${BUILD_ENV}/PYTHONPATH.prepend")" = "${LAYERS_DIR}/collect-settings" ]
	# A copy of the package, not the repo's link to it.
	[ -f "${LAYERS_DIR}/collect-settings/herokuify_buildpack/platforms/cnbsettings.py" ]
	[ ! -L "${LAYERS_DIR}/collect-settings/herokuify_buildpack" ]
}

@test "build leaves DJANGO_SETTINGS_MODULE to a config var, and to HEROKUIFY_KEEP_SETTINGS_MODULE=1" {
	copy_fixture minimal
	echo "minimal_site.settings" >"${ENV_DIR}/DJANGO_SETTINGS_MODULE"
	run_prepare build
	[ "${status}" -eq 0 ]
	[[ "${output}" == *"DJANGO_SETTINGS_MODULE is a config var"* ]]
	[ ! -e "${BUILD_ENV}/DJANGO_SETTINGS_MODULE.override" ]

	rm "${ENV_DIR}/DJANGO_SETTINGS_MODULE"
	echo 1 >"${ENV_DIR}/HEROKUIFY_KEEP_SETTINGS_MODULE"
	run_prepare build
	[ "${status}" -eq 0 ]
	[[ "${output}" == *"HEROKUIFY_KEEP_SETTINGS_MODULE=1"* ]]
	[ ! -e "${BUILD_ENV}/DJANGO_SETTINGS_MODULE.override" ]
	[ -f "${BUILD_ENV}/PYTHONPATH.prepend" ]
}

@test "build does nothing with HEROKUIFY_DISABLE=1" {
	copy_fixture minimal
	echo 1 >"${ENV_DIR}/HEROKUIFY_DISABLE"
	run_prepare build
	[ "${status}" -eq 0 ]
	[[ "${output}" == *"skipped, because HEROKUIFY_DISABLE=1"* ]]
	[ ! -e "${LAYERS_DIR}/collect-settings.toml" ]
}
