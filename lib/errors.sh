# shellcheck shell=bash
# The shell's own errors: those that come before there is a Python to print them. Every other
# error a user can meet is in herokuify_buildpack/errors.py. Needs lib/output.sh.

errors::no_python() {
	output::error "herokuify: no Python found in the build. Add heroku/python before this buildpack:
heroku buildpacks:add --index 1 heroku/python"
}

errors::step_failed() {
	local step="$1" status="$2"
	output::error "herokuify: bin/${0##*/} failed while ${step} (exit status ${status}).
Build again with BUILDPACK_XTRACE=1 in the build's environment to see each command."
}

errors::no_python_cnb() {
	output::error "herokuify: no Python from an earlier buildpack in this build. Put heroku/python before this buildpack:
pack build APP --buildpack herokuify/django-s3-prepare --buildpack heroku/python --buildpack herokuify/django-s3, or the same order in project.toml"
}
