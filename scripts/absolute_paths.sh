# shellcheck shell=bash
# Sourced by course.sh and test.sh before they change folder: a relative
# VAEFACE_DATA or VAEFACE_CACHE is made absolute from where the command was
# typed, so that notebooks (which run in notebooks/) and tests find the same
# folder. vaeface_utils refuses relative ones with a message saying so.
# Unset, absolute and ~ paths (which Python expands) are left as they are.
case "${VAEFACE_DATA:-}" in
    "" | /* | "~"*) ;;
    *) export VAEFACE_DATA="$PWD/$VAEFACE_DATA" ;;
esac
case "${VAEFACE_CACHE:-}" in
    "" | /* | "~"*) ;;
    *) export VAEFACE_CACHE="$PWD/$VAEFACE_CACHE" ;;
esac
