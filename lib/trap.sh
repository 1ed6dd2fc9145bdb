# shellcheck shell=bash
# Heroku's habits for a build script: errexit in command substitutions too, an ERR trap that
# names the failing step once, and BUILDPACK_XTRACE=1 to trace every command. Needs lib/errors.sh.

shopt -s inherit_errexit
set -o errtrace
if [[ "${BUILDPACK_XTRACE:-}" == "1" ]]; then
	set -o xtrace
fi

# What the build is doing, for the one line that says where it failed.
CURRENT_STEP="starting"

trap::on_error() {
	local status="$1"
	# Subshells inherit the trap (errtrace); only the build's own shell reports, once.
	if ((BASH_SUBSHELL == 0)); then
		errors::step_failed "${CURRENT_STEP}" "${status}"
	fi
}
trap 'trap::on_error "$?"' ERR
