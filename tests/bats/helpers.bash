# shellcheck shell=bash
# Shared set-up for the bats tests: temporary BUILD_DIR, CACHE_DIR and ENV_DIR per test.

REPO_DIR="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
export REPO_DIR

make_dirs() {
	BUILD_DIR="$(mktemp -d "${BATS_TEST_TMPDIR}/build.XXXX")"
	CACHE_DIR="$(mktemp -d "${BATS_TEST_TMPDIR}/cache.XXXX")"
	ENV_DIR="$(mktemp -d "${BATS_TEST_TMPDIR}/env.XXXX")"
	export BUILD_DIR CACHE_DIR ENV_DIR
}

copy_fixture() {
	local name="$1"
	cp -R "${REPO_DIR}/test-fixtures/${name}/." "${BUILD_DIR}/"
}

# Runs bin/detect as a CNB lifecycle does: in the app dir, with CNB_* set; the plan file is
# left in PLAN.
run_cnb_detect() {
	PLAN="${BATS_TEST_TMPDIR}/plan.toml"
	touch "${PLAN}"
	cd "${BUILD_DIR}" || return 1
	run env -i PATH=/usr/bin:/bin CNB_BUILD_PLAN_PATH="${PLAN}" CNB_PLATFORM_DIR="${ENV_DIR}" \
		CNB_BUILDPACK_DIR="${REPO_DIR}" "${REPO_DIR}/bin/detect"
}

# Runs a bin/ script the way the platform does: a clean environment with PATH, HOME and STACK.
run_clean() {
	run env -i PATH="${CLEAN_PATH:-/usr/local/bin:/usr/bin:/bin}" HOME="${BATS_TEST_TMPDIR}" \
		STACK=heroku-24 "$@"
}
