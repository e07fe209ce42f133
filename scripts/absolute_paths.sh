# shellcheck shell=bash
# Sourced by course.sh and test.sh before they change folder: a relative
# VAEFACE_DATA or VAEFACE_CACHE is made absolute from where the command was
# typed, so that notebooks (which run in notebooks/) and tests find the same
# folder. vaeface_utils refuses relative ones with a message saying so.
for vaeface_var in VAEFACE_DATA VAEFACE_CACHE; do
    vaeface_value=$(eval "printf '%s' \"\${$vaeface_var:-}\"")
    case "$vaeface_value" in
        "" | /* | "~"*) ;;  # unset, absolute, or ~ (which Python expands)
        *)
            eval "$vaeface_var=\"\$PWD/\$vaeface_value\""
            export "${vaeface_var?}"
            ;;
    esac
done
unset vaeface_var vaeface_value
