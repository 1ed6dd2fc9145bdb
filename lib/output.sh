# shellcheck shell=bash
# Heroku's build output style: "-----> " for a step, 7 spaces for its details, " !     " for errors.

output::step() {
	local message="$1"
	echo "-----> ${message}"
}

output::info() {
	local message="$1"
	echo "       ${message}"
}

output::error() {
	local message="$1"
	local line
	while IFS= read -r line; do
		echo " !     ${line}" >&2
	done <<<"${message}"
}
