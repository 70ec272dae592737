# Dot-sourced by PowerShell (". bin/Activate.ps1"). Written by vrun. The
# values below are single-quoted, so nothing in them is ever expanded.

# A deactivate left by an earlier activation, of this or of another venv,
# knows best how to undo it.
if (Get-Command -Name deactivate -CommandType Function -ErrorAction SilentlyContinue) {
    deactivate -NonDestructive
}

function global:deactivate {
    # -NonDestructive keeps this function: activate uses it to clean up.
    param([switch] $NonDestructive)

    if (Get-Variable -Name _VrunOldPath -Scope Global -ErrorAction SilentlyContinue) {
        $env:PATH = $global:_VrunOldPath
        Remove-Variable -Name _VrunOldPath -Scope Global
    }
    if (Get-Variable -Name _VrunOldPythonHome -Scope Global -ErrorAction SilentlyContinue) {
        $env:PYTHONHOME = $global:_VrunOldPythonHome
        Remove-Variable -Name _VrunOldPythonHome -Scope Global
    }
    if (Get-Variable -Name _VrunOldPrompt -Scope Global -ErrorAction SilentlyContinue) {
        Set-Item -Path Function:Global:prompt -Value $global:_VrunOldPrompt
        Remove-Variable -Name _VrunOldPrompt -Scope Global
    }
    Remove-Item -Path Env:VIRTUAL_ENV -ErrorAction SilentlyContinue
    Remove-Item -Path Env:VIRTUAL_ENV_PROMPT -ErrorAction SilentlyContinue
    if (-not $NonDestructive) {
        Remove-Item -Path Function:deactivate
    }
}

$env:VIRTUAL_ENV = @VIRTUAL_ENV@
$env:VIRTUAL_ENV_PROMPT = @VIRTUAL_ENV_PROMPT@

$global:_VrunOldPath = $env:PATH
$_vrunBin = $env:VIRTUAL_ENV + '/bin'
# An empty PATH must not gain a trailing separator, which would mean the
# current directory.
if ($env:PATH) {
    $env:PATH = $_vrunBin + [System.IO.Path]::PathSeparator + $env:PATH
} else {
    $env:PATH = $_vrunBin
}
Remove-Variable -Name _vrunBin

# A PYTHONHOME from outside would point the env's python at another prefix.
if (Test-Path -Path Env:PYTHONHOME) {
    $global:_VrunOldPythonHome = $env:PYTHONHOME
    Remove-Item -Path Env:PYTHONHOME
}

# Without a prompt function there is nothing to wrap.
$_vrunNoPrompt = (Test-Path -Path Env:VIRTUAL_ENV_DISABLE_PROMPT) -and $env:VIRTUAL_ENV_DISABLE_PROMPT
if ((-not $_vrunNoPrompt) -and $function:prompt) {
    $global:_VrunOldPrompt = $function:prompt
    function global:prompt {
        @PROMPT_PREFIX@ + (& $global:_VrunOldPrompt)
    }
}
Remove-Variable -Name _vrunNoPrompt
