# Prints VIRTUAL_ENV_PROMPT escaped for the prompt expansion this shell will
# do on PS1, so that a "$(...)", backslash, "%" or "!" in it is shown as
# written and never run or interpreted.
_vrun_prompt_escaped () {
    local decode= subst= bang= percent= rest="$VIRTUAL_ENV_PROMPT" out= c
    if [ -n "${ZSH_VERSION:-}" ]; then
        if [[ -o promptsubst ]]; then subst=1; fi
        if [[ -o promptbang ]]; then bang=1; fi
        if [[ -o promptpercent ]]; then percent=1; fi
    elif [ -n "${BASH_VERSION:-}" ]; then
        # bash first decodes backslash escapes, then, with promptvars or in
        # POSIX mode, expands like a double-quoted string.
        decode=1
        if shopt -q promptvars; then subst=1; fi
        if shopt -qo posix; then subst=1; bang=1; fi
    else
        # Other POSIX shells expand PS1 like a double-quoted string; ksh
        # also turns "!" into the history number.
        subst=1
        if [ -n "${KSH_VERSION:-}" ]; then bang=1; fi
    fi
    while [ -n "$rest" ]; do
        c=${rest%"${rest#?}"}
        rest=${rest#?}
        case $c in
        '\')
            if [ -n "$subst" ]; then c='\\'; fi
            if [ -n "$decode" ]; then c=$c$c; fi
            ;;
        '$'|'`')
            if [ -n "$subst" ]; then
                c=\\$c
                if [ -n "$decode" ]; then c=\\$c; fi
            fi
            ;;
        '!')
            if [ -n "$bang" ]; then c='!!'; fi
            ;;
        '%')
            if [ -n "$percent" ]; then c='%%'; fi
            ;;
        esac
        out=$out$c
    done
    printf '%s' "$out"
}
