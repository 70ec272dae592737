# bash completion for vrun(1)                                  -*- shell-script -*-
# Verbs, the options of each verb, profile names after --profile and env
# dirs (directories holding a pyvenv.cfg) where an ENV goes. Needs nothing
# from the bash-completion package.

_vrun_verbs="create run shell prove info verify profiles doctor export help"
_vrun_create_opts="--python --prompt --clear --upgrade --without-pip --system-site-packages --copies --help"
_vrun_run_opts="--python --bind --ro-bind --tmpfs --setenv --unsetenv --chdir --share-net --unshare-net --profile --ephemeral --home --verbose -v --dry-run --json --help"
_vrun_report_opts="--json --help"

# Options that take a value (--setenv takes two).
_vrun_takes_arg() {
        case $1 in
        --python | --prompt | --bind | --ro-bind | --tmpfs | --setenv | --unsetenv | --chdir | --profile | --module | --home | \
                --bundle | --oci | --tag | --seccomp-json) return 0 ;;
        esac
        return 1
}

# The built-in profiles, from the vrun being completed ("vrun profiles" prints
# one a line, name first); the fixed list when it cannot be asked.
_vrun_profiles() {
        local vrun=$1 names
        if [ -n "$vrun" ]; then
                names=$("$vrun" profiles 2>/dev/null | while read -r n _; do printf '%s\n' "$n"; done)
        fi
        printf '%s\n' "${names:-default
untrusted
install}"
}

# ENV candidates for $1: env dirs first; other directories (with a trailing
# slash) to walk into.
_vrun_envs() {
        local cur=$1 d
        local -a envs=() dirs=()
        while IFS= read -r d; do
                [ -n "$d" ] || continue
                if [ -f "$d/pyvenv.cfg" ]; then
                        envs+=("$d")
                else
                        dirs+=("${d%/}/")
                fi
        done < <(compgen -d -- "$cur")
        COMPREPLY=("${envs[@]}" "${dirs[@]}")
        # Only a lone directory to walk into wants no space after it.
        if [ ${#COMPREPLY[@]} = 1 ] && [ "${#dirs[@]}" = 1 ]; then
                compopt -o nospace 2>/dev/null
        fi
}

_vrun() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev= cword=$COMP_CWORD
        local -a words=("${COMP_WORDS[@]}")
        COMPREPLY=()
        ((cword > 0)) && prev=${words[cword - 1]}

        local vrun=${words[0]}
        vrun=${vrun/#\~/$HOME}
        if ! [ -x "$vrun" ] || [ -d "$vrun" ]; then
                vrun=$(type -P "$vrun" 2>/dev/null)
        fi

        # --opt=VALUE: bash splits at '='.
        if [ "$cur" = "=" ]; then
                prev=${words[cword - 1]}
                cur=
        elif [ "$prev" = "=" ] && ((cword >= 2)); then
                prev=${words[cword - 2]}
        fi

        # The verb, and how many positional words (ENV, CMD...) precede cur.
        local verb= i=1 w npos=0 env=
        if ((cword > 1)); then
                case ${words[1]} in
                create | run | shell | prove | info | verify | profiles | doctor | export | help)
                        verb=${words[1]}
                        i=2
                        ;;
                esac
        fi
        for (( ; i < cword; i++)); do
                w=${words[i]}
                if ((npos > 0)); then
                        npos=$((npos + 1))
                        continue
                fi
                case $w in
                =) i=$((i + 1)) ;;
                --setenv) i=$((i + 2)) ;;
                -*) _vrun_takes_arg "$w" && [ "${words[i + 1]}" != "=" ] && i=$((i + 1)) ;;
                *)
                        npos=1
                        env=$w
                        ;;
                esac
        done
        [ -n "$verb" ] || verb=run

        # The value of an option.
        if ((npos == 0)); then
                case $prev in
                --profile)
                        local p
                        while IFS= read -r p; do
                                [[ $p == "$cur"* ]] && COMPREPLY+=("$p")
                        done < <(_vrun_profiles "$vrun")
                        # A profile can also be a file: *.json, or a path.
                        if [[ $cur == */* || $cur == .* ]]; then
                                compopt -o filenames 2>/dev/null
                                COMPREPLY+=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
                        fi
                        return 0
                        ;;
                --home)
                        COMPREPLY=($(compgen -W "ro tmpfs rw" -- "$cur"))
                        return 0
                        ;;
                --python)
                        compopt -o filenames 2>/dev/null
                        COMPREPLY=($(compgen -c -- "${cur:-python}" | grep -E '^python[0-9.]*$' | sort -u) $(compgen -f -- "$cur"))
                        return 0
                        ;;
                --bind | --ro-bind | --tmpfs | --chdir | --bundle | --oci | --seccomp-json)
                        compopt -o filenames 2>/dev/null
                        COMPREPLY=($(compgen -f -- "$cur"))
                        return 0
                        ;;
                --setenv | --unsetenv)
                        COMPREPLY=($(compgen -v -- "$cur"))
                        return 0
                        ;;
                --prompt | --module | --tag)
                        return 0
                        ;;
                esac
                # --setenv VAR VALUE: nothing to offer for VALUE.
                if ((cword >= 2)) && [ "${words[cword - 2]}" = --setenv ]; then
                        return 0
                fi
        fi

        # The first word: a verb, an option of run, or an ENV.
        if ((cword == 1)); then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$_vrun_run_opts --version" -- "$cur"))
                else
                        _vrun_envs "$cur"
                        COMPREPLY=($(compgen -W "$_vrun_verbs" -- "$cur") "${COMPREPLY[@]}")
                fi
                return 0
        fi

        case $verb in
        help)
                ((cword == 2)) && COMPREPLY=($(compgen -W "$_vrun_verbs" -- "$cur"))
                ;;
        create)
                if ((npos == 0)); then
                        if [[ $cur == -* ]]; then
                                COMPREPLY=($(compgen -W "$_vrun_create_opts" -- "$cur"))
                        else
                                # A new env: any directory path.
                                compopt -o filenames 2>/dev/null
                                COMPREPLY=($(compgen -d -- "$cur"))
                        fi
                fi
                ;;
        run | shell | prove | export)
                if ((npos == 0)); then
                        if [[ $cur == -* ]]; then
                                local opts=$_vrun_run_opts
                                [ "$verb" = prove ] && opts+=" --module"
                                [ "$verb" = export ] && opts+=" --bundle --oci --tag --seccomp-json"
                                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                        else
                                _vrun_envs "$cur"
                        fi
                elif [ "$verb" = run ] || [ "$verb" = export ]; then
                        # CMD (a command on the host's PATH or in ENV/bin), then its arguments.
                        if ((npos == 1)); then
                                env=${env/#\~/$HOME}
                                COMPREPLY=($({
                                        compgen -c -- "$cur"
                                        [ -d "$env/bin" ] && (cd "$env/bin" && compgen -f -- "$cur")
                                } | sort -u))
                        else
                                compopt -o default 2>/dev/null
                                COMPREPLY=()
                        fi
                fi
                ;;
        info | verify)
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$_vrun_report_opts" -- "$cur"))
                elif ((npos == 0)); then
                        _vrun_envs "$cur"
                fi
                ;;
        profiles)
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$_vrun_report_opts" -- "$cur"))
                elif ((npos == 0)); then
                        local p
                        while IFS= read -r p; do
                                [[ $p == "$cur"* ]] && COMPREPLY+=("$p")
                        done < <(_vrun_profiles "$vrun")
                        if [[ $cur == */* || $cur == .* ]]; then
                                compopt -o filenames 2>/dev/null
                                COMPREPLY+=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
                        fi
                fi
                ;;
        doctor)
                [[ $cur == -* || -z $cur ]] && COMPREPLY=($(compgen -W "$_vrun_report_opts" -- "$cur"))
                ;;
        esac
        return 0
}

complete -F _vrun vrun
