# Sourced by csh or tcsh ("source bin/activate.csh"), never run as a program:
# only the shell itself can change its own environment. Written by vrun. The
# values below are single-quoted, with history characters escaped, so
# nothing in them is ever expanded.

# csh has no functions; "deactivate nondestructive" keeps the alias so that
# activate can use it to undo an earlier activation.
alias deactivate 'test $?_vrun_old_path != 0 && setenv PATH "$_vrun_old_path" && unset _vrun_old_path; test $?_vrun_old_pythonhome != 0 && setenv PYTHONHOME "$_vrun_old_pythonhome" && unset _vrun_old_pythonhome; test $?_vrun_old_prompt != 0 && set prompt="$_vrun_old_prompt" && unset _vrun_old_prompt; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; rehash; if ("\!:*" != "nondestructive") unalias deactivate'

deactivate nondestructive

setenv VIRTUAL_ENV @VIRTUAL_ENV@
setenv VIRTUAL_ENV_PROMPT @VIRTUAL_ENV_PROMPT@

set _vrun_old_path = "$PATH"
setenv PATH "$VIRTUAL_ENV/bin:$PATH"

# A PYTHONHOME from outside would point the env's python at another prefix.
if ($?PYTHONHOME) then
    set _vrun_old_pythonhome = "$PYTHONHOME"
    unsetenv PYTHONHOME
endif

# Only an interactive shell has a prompt to change.
set _vrun_show_prompt = $?prompt
if ($?VIRTUAL_ENV_DISABLE_PROMPT) then
    if ("$VIRTUAL_ENV_DISABLE_PROMPT" != "") set _vrun_show_prompt = 0
endif
if ($_vrun_show_prompt) then
    set _vrun_old_prompt = "$prompt"
    # The prefix is escaped for the prompt expansion of tcsh as well.
    set prompt = @PROMPT_PREFIX@"$prompt"
endif
unset _vrun_show_prompt

rehash
