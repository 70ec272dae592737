# fish completion for vrun(1): verbs, the options of each verb, profile names
# after --profile and env dirs (directories holding a pyvenv.cfg) where an
# ENV goes.

# Parses the command line up to the cursor. Prints the verb ("run" when the
# first word is not one), then the number of positional words after it (ENV,
# CMD, ...), then those words. Prints nothing while the first word is typed.
function __vrun_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    test (count $tokens) -gt 0; or return 1
    set -l verb run
    if contains -- $tokens[1] create run shell prove info verify profiles doctor export help
        set verb $tokens[1]
        set -e tokens[1]
    end
    set -l pos
    set -l skip 0
    for t in $tokens
        if set -q pos[1]
            set -a pos $t
        else if test $skip -gt 0
            set skip (math $skip - 1)
        else if test "$t" = --setenv
            set skip 2
        else if contains -- $t --python --prompt --bind --ro-bind --tmpfs --unsetenv --chdir --profile --module --bundle --oci --tag --seccomp-json
            set skip 1
        else if string match -q -- '-*' $t
            continue
        else
            set -a pos $t
        end
    end
    echo $verb
    count $pos
    printf '%s\n' $pos
end

function __vrun_first_word
    not __vrun_parse >/dev/null
end

# __vrun_is VERB... [-- NPOS]: the verb is one of VERB and, if given, exactly
# NPOS positional words precede the cursor.
function __vrun_is
    set -l p (__vrun_parse); or return 1
    set -l want_pos
    if set -l i (contains -i -- -- $argv)
        set want_pos $argv[(math $i + 1)]
        set argv $argv[1..(math $i - 1)]
    end
    contains -- $p[1] $argv; or return 1
    test -z "$want_pos"; or test $p[2] -eq $want_pos
end

# The words after ENV, for completing the command that `vrun run` starts.
function __vrun_run_has_cmd
    set -l p (__vrun_parse); or return 1
    contains -- $p[1] run export; and test $p[2] -ge 1
end

function __vrun_complete_cmd
    set -l p (__vrun_parse); or return
    set -l env $p[3]
    set -l cmd $p[4..-1] (commandline -ct)
    if test (count $cmd) -eq 1
        # The command itself: one on PATH, or one in ENV/bin.
        complete -C "$cmd[1]"
        for f in $env/bin/$cmd[1]*
            test -x $f; and printf '%s\tin %s\n' (basename $f) $env/bin
        end
        return
    end
    __fish_complete_subcommand --commandline $cmd
end

function __vrun_profiles
    set -l vrun (commandline -opc)[1]
    set -l names
    if command -q -- $vrun
        set names (command $vrun profiles 2>/dev/null | string replace -r '^(\S+)\s*(.*)$' '$1\t$2')
    end
    set -q names[1]; or set names default untrusted install
    printf '%s\n' $names
    # A profile can also be a JSON file.
    __fish_complete_suffix .json
end

function __vrun_pythons
    complete -C python | string match -r '^python[0-9.]*(\t.*)?$'
end

function __vrun_envs
    set -l tok (commandline -ct)
    for d in $tok*/
        set d (string replace -r '/$' '' -- $d)
        if test -f $d/pyvenv.cfg
            printf '%s\tenv\n' $d
        else
            printf '%s/\tdirectory\n' $d
        end
    end
end

complete -c vrun -f

# The first word: a verb, an option of run, or an ENV.
complete -c vrun -n __vrun_first_word -a create -d 'build a PEP 405 venv natively'
complete -c vrun -n __vrun_first_word -a run -d 'run CMD isolated in ENV (creates ENV if missing)'
complete -c vrun -n __vrun_first_word -a shell -d 'an interactive shell inside the sandbox'
complete -c vrun -n __vrun_first_word -a prove -d 'show, and check, that isolation holds'
complete -c vrun -n __vrun_first_word -a info -d 'what ENV is built on and what it hides'
complete -c vrun -n __vrun_first_word -a verify -d 'check ENV is still what was installed'
complete -c vrun -n __vrun_first_word -a profiles -d 'list or show sandbox profiles'
complete -c vrun -n __vrun_first_word -a doctor -d 'check what vrun needs of the kernel'
complete -c vrun -n __vrun_first_word -a export -d 'ENV and its sandbox as an OCI bundle or image'
complete -c vrun -n __vrun_first_word -a help -d 'describe a verb'
complete -c vrun -n __vrun_first_word -a '(__vrun_envs)'
complete -c vrun -n __vrun_first_word -s V -l version -d 'print the version'
complete -c vrun -s h -l help -d 'describe vrun or the verb'

# create
set -l c '__vrun_is create -- 0'
complete -c vrun -n $c -l python -r -d 'base interpreter: path, command or version' -a '(__vrun_pythons)'
complete -c vrun -n $c -l prompt -x -d 'prompt shown by the activate scripts'
complete -c vrun -n $c -l clear -d 'replace an existing venv'
complete -c vrun -n $c -l upgrade -d 'refresh an existing venv for its base'
complete -c vrun -n $c -l without-pip -d 'do not seed pip'
complete -c vrun -n $c -l system-site-packages -d 'let the venv see the base packages'
complete -c vrun -n $c -l copies -d 'copy the interpreter instead of linking it'
complete -c vrun -n $c -a '(__fish_complete_directories)'

# run, shell, prove, export: options until ENV
set -l r '__vrun_is run shell prove export -- 0'
complete -c vrun -n $r -l python -r -d 'interpreter used when ENV must be created' -a '(__vrun_pythons)'
complete -c vrun -n $r -l bind -r -F -d 'bind SRC[:DST] writable'
complete -c vrun -n $r -l ro-bind -r -F -d 'bind SRC[:DST] read-only'
complete -c vrun -n $r -l tmpfs -r -a '(__fish_complete_directories)' -d 'an empty tmpfs at DST'
complete -c vrun -n $r -l setenv -x -a '(set -xn)' -d 'set VAR VALUE inside'
complete -c vrun -n $r -l unsetenv -x -a '(set -xn)' -d 'remove VAR inside'
complete -c vrun -n $r -l chdir -r -a '(__fish_complete_directories)' -d 'working directory inside'
complete -c vrun -n $r -l share-net -d 'keep the host network'
complete -c vrun -n $r -l unshare-net -d 'loopback only'
complete -c vrun -n $r -l profile -x -a '(__vrun_profiles)' -d 'sandbox profile'
complete -c vrun -n $r -l ephemeral -d 'writes to ENV vanish at exit'
complete -c vrun -n $r -l home -x -a 'ro tmpfs rw' -d 'HOME inside: read-only, empty tmpfs, writable'
complete -c vrun -n $r -s v -l verbose -d 'print the plan before running'
complete -c vrun -n $r -l dry-run -d 'print the plan, run nothing'
complete -c vrun -n $r -l json -d 'machine-readable output'
complete -c vrun -n $r -a '(__vrun_envs)'
complete -c vrun -n '__vrun_is prove -- 0' -l module -x -d 'check that NAME cannot be imported inside'
set -l x '__vrun_is export -- 0'
complete -c vrun -n $x -l bundle -r -a '(__fish_complete_directories)' -d 'write an OCI runtime bundle to DIR'
complete -c vrun -n $x -l oci -r -a '(__fish_complete_directories)' -d 'write an OCI image layout to DIR'
complete -c vrun -n $x -l tag -x -d 'the image reference [NAME:]TAG'
complete -c vrun -n $x -l seccomp-json -r -F -d 'write the seccomp filter as OCI JSON'
complete -c vrun -n __vrun_run_has_cmd -a '(__vrun_complete_cmd)'

# info, verify, profiles, doctor, help
complete -c vrun -n '__vrun_is info verify profiles doctor' -l json -d 'print JSON'
complete -c vrun -n '__vrun_is info verify -- 0' -a '(__vrun_envs)'
complete -c vrun -n '__vrun_is profiles -- 0' -a '(__vrun_profiles)'
complete -c vrun -n '__vrun_is help -- 0' -a 'create run shell prove info verify profiles doctor export help'
