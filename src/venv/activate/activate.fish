# Sourced by fish ("source bin/activate.fish"), never run as a program: only
# the shell itself can change its own environment. Written by vrun. The values
# below are single-quoted, so nothing in them is ever expanded.

# A deactivate left by an earlier activation, of this or of another venv,
# knows best how to undo it.
if functions -q deactivate
    deactivate nondestructive
end

function deactivate --description 'Leave the virtual environment'
    if set -q _vrun_old_path
        set -gx PATH $_vrun_old_path
        set -e _vrun_old_path
    end
    if set -q _vrun_old_pythonhome
        set -gx PYTHONHOME $_vrun_old_pythonhome
        set -e _vrun_old_pythonhome
    end
    if functions -q _vrun_old_fish_prompt
        functions -e fish_prompt
        functions -c _vrun_old_fish_prompt fish_prompt
        functions -e _vrun_old_fish_prompt
        functions -e _vrun_return
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    # "nondestructive" keeps this function: activate uses it to clean up.
    if test "$argv[1]" != nondestructive
        functions -e deactivate
    end
end

set -gx VIRTUAL_ENV @VIRTUAL_ENV@
set -gx VIRTUAL_ENV_PROMPT @VIRTUAL_ENV_PROMPT@

set -g _vrun_old_path $PATH
set -gx PATH "$VIRTUAL_ENV/bin" $PATH

# A PYTHONHOME from outside would point the env's python at another prefix.
if set -q PYTHONHOME
    set -g _vrun_old_pythonhome $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"; and functions -q fish_prompt
    functions -c fish_prompt _vrun_old_fish_prompt
    # Hands the old prompt the exit status it would have seen, which many
    # prompts show.
    function _vrun_return
        return $argv[1]
    end
    function fish_prompt
        set -l last_status $status
        printf '%s' @PROMPT_PREFIX@
        _vrun_return $last_status
        _vrun_old_fish_prompt
    end
end
