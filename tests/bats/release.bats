#!/usr/bin/env bats
# bin/release prints valid YAML and adds nothing the app did not ask for.

load helpers

@test "prints valid YAML that sets nothing" {
	make_dirs
	run_clean "${REPO_DIR}/bin/release" "${BUILD_DIR}"
	[ "${status}" -eq 0 ]
	run python -c 'import sys, yaml; print(yaml.safe_load(sys.argv[1]))' "${output}"
	[ "${status}" -eq 0 ]
	[ "${output}" = "{}" ]
}
