/* The activate scripts, run by the shells that are installed: values with
 * every shell metacharacter must arrive exactly and run nothing, and
 * deactivate must put the shell back as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/venv/activate.h"

/* Every character that some shell treats as code: the CVE-2024-9287 class. */
#define NASTY_DIR    "a b'c\"d$(touch PWNED)`touch PWNED`;f!g\\h%i*{j,k}~"
#define NASTY_PROMPT "p'q\"r$(touch PWNED)`s`;t!u\\v%w *~ \\!x \\$y %% \xe2\x80\x99z\xe2\x80\x98"

static char *tmp_root;
static char *env_dir; /* the env, holding NASTY_DIR */
static char *bin_dir; /* env_dir/bin */

static void check_quote(char *(*quote)(const char *), const char *in, const char *want) {
        _cleanup_free_ char *out = quote(in);
        CHECK_STREQ(out, want);
}

static void test_quoting(void) {
        check_quote(shell_quote_posix, "", "''");
        check_quote(shell_quote_posix, "plain", "'plain'");
        check_quote(shell_quote_posix, "it's", "'it'\\''s'");
        check_quote(shell_quote_posix, "''", "''\\'''\\'''");
        check_quote(shell_quote_posix, "$(x)`y`\"z\\!;", "'$(x)`y`\"z\\!;'");

        check_quote(shell_quote_csh, "", "''");
        check_quote(shell_quote_csh, "it's", "'it'\\''s'");
        check_quote(shell_quote_csh, "a!b", "'a\\!b'");
        check_quote(shell_quote_csh, "a\\!b", "'a\\\\!b'");
        check_quote(shell_quote_csh, "$x`y`\"z\\", "'$x`y`\"z\\'");

        check_quote(shell_quote_fish, "", "''");
        check_quote(shell_quote_fish, "it's", "'it\\'s'");
        check_quote(shell_quote_fish, "a\\b", "'a\\\\b'");
        check_quote(shell_quote_fish, "a\\'", "'a\\\\\\''");
        check_quote(shell_quote_fish, "$x(y)\"!", "'$x(y)\"!'");

        check_quote(shell_quote_powershell, "", "''");
        check_quote(shell_quote_powershell, "it's", "'it''s'");
        check_quote(shell_quote_powershell, "$x`y\"z", "'$x`y\"z'");
        /* U+2019 and U+2018 end a PowerShell string just like "'". */
        check_quote(shell_quote_powershell,
                    "a\xe2\x80\x99"
                    "b\xe2\x80\x98",
                    "'a\xe2\x80\x99\xe2\x80\x99"
                    "b\xe2\x80\x98\xe2\x80\x98'");
        /* Other characters from the same UTF-8 block pass unchanged. */
        check_quote(shell_quote_powershell, "\xe2\x80\x94", "'\xe2\x80\x94'");
}

static bool file_contains(const char *path, const char *needle) {
        _cleanup_free_ char *text = NULL;
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
                return false;
        return strstr(text, needle) != NULL;
}

static void check_script_line(const char *script, const char *before, char *quoted) {
        _cleanup_free_ char *q = quoted;
        _cleanup_free_ char *line = NULL;
        _cleanup_free_ char *path = path_join(bin_dir, script);
        CHECK(asprintf(&line, "%s%s\n", before, q) > 0);
        CHECK(file_contains(path, line));
}

static void test_write(void) {
        _cleanup_close_ int bin_fd = open(bin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(bin_fd >= 0);

        CHECK_INTEQ(activate_write_scripts(bin_fd, "relative/env", "p", true), -EINVAL);
        CHECK_INTEQ(activate_write_scripts(bin_fd, "/env", "new\nline", true), -EINVAL);
        CHECK_INTEQ(activate_write_scripts(bin_fd, "/env\t", "p", true), -EINVAL);

        /* A new tree: the scripts are created, never written over. */
        CHECK_INTEQ(activate_write_scripts(bin_fd, env_dir, NASTY_PROMPT, false), 0);
        CHECK_INTEQ(activate_write_scripts(bin_fd, env_dir, NASTY_PROMPT, false), -EEXIST);
        /* Writing again (an upgrade) replaces the scripts. */
        CHECK_INTEQ(activate_write_scripts(bin_fd, env_dir, NASTY_PROMPT, true), 0);

        static const char *const names[] = { "activate", "activate.csh", "activate.fish", "Activate.ps1" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct stat st;
                CHECK(fstatat(bin_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0);
                CHECK_INTEQ(st.st_mode & 07777, 0644);
                _cleanup_free_ char *path = path_join(bin_dir, names[i]);
                CHECK(!file_contains(path, "@VIRTUAL_ENV"));
                CHECK(!file_contains(path, "@PROMPT_PREFIX@"));
        }

        check_script_line("activate", "\nVIRTUAL_ENV=", shell_quote_posix(env_dir));
        check_script_line("activate", "\nVIRTUAL_ENV_PROMPT=", shell_quote_posix(NASTY_PROMPT));
        check_script_line("activate.csh", "\nsetenv VIRTUAL_ENV ", shell_quote_csh(env_dir));
        check_script_line("activate.fish", "\nset -gx VIRTUAL_ENV ", shell_quote_fish(env_dir));
        check_script_line("Activate.ps1", "\n$env:VIRTUAL_ENV = ", shell_quote_powershell(env_dir));
        check_script_line("Activate.ps1", "\n$env:VIRTUAL_ENV_PROMPT = ", shell_quote_powershell(NASTY_PROMPT));
}

static bool shell_installed(const char *shell) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "command -v %s >/dev/null 2>&1", shell) < 0)
                return false;
        return system(cmd) == 0; /* NOLINT(cert-env33-c): asking the shell is the point */
}

/* CI installs every shell; locally a missing one is only reported. */
static bool want_shell(const char *shell) {
        if (shell_installed(shell))
                return true;
        const char *must = getenv("VRUN_TESTS_MUST_WORK");
        if (must && strcmp(must, "1") == 0) {
                fprintf(stderr, "not ok: %s is not installed (VRUN_TESTS_MUST_WORK=1)\n", shell);
                tap_failures++;
        } else
                printf("# skip: %s is not installed\n", shell);
        return false;
}

/* The drivers report "key=value" lines into $VRUN_T_OUT; values hold no
 * newline. */
static char *report_value(const char *report, const char *key) {
        size_t klen = strlen(key);
        for (const char *line = report; line && *line;) {
                const char *end = strchrnul(line, '\n');
                if (strncmp(line, key, klen) == 0 && line[klen] == '=')
                        return strndup(line + klen + 1, (size_t) (end - line) - klen - 1);
                line = *end ? end + 1 : NULL;
        }
        return strdup("<missing>");
}

static void check_report(const char *what, const char *report, const char *key, const char *want) {
        _cleanup_free_ char *got = report_value(report, key);
        tap_checks++;
        if (strcmp(got, want) != 0) {
                tap_failures++;
                fprintf(stderr, "not ok %s: %s is \"%s\", expected \"%s\"\n", what, key, got, want);
        }
}

static char *run_driver(const char *what, const char *cmd) {
        _cleanup_free_ char *out = path_join(tmp_root, "report");
        (void) unlink(out);
        setenv("VRUN_T_OUT", out, 1);

        int status = system(cmd); /* NOLINT(cert-env33-c): the test drives a real shell */
        tap_checks++;
        if (status != 0) {
                tap_failures++;
                fprintf(stderr, "not ok %s: \"%s\" exited with status %d\n", what, cmd, status);
        }

        /* Each driver runs in tmp_root, where "touch PWNED" would land. */
        tap_checks++;
        if (access("PWNED", F_OK) == 0 || errno != ENOENT) {
                tap_failures++;
                fprintf(stderr, "not ok %s: a value was executed as code\n", what);
                (void) unlink("PWNED");
        }

        char *report = NULL;
        if (read_full_file_at(AT_FDCWD, out, 1 << 20, &report, NULL) < 0)
                report = strdup("");
        return report;
}

/* What every shell must report, whatever its syntax. "shown" is the prompt
 * as the user sees it, where the driver can tell (NULL: not checked). */
static void check_common(const char *what, const char *report, const char *shown, const char *shown_after) {
        _cleanup_free_ char *path0 = report_value(report, "path0");
        _cleanup_free_ char *path = NULL;
        CHECK(asprintf(&path, "%s:%s", bin_dir, path0) > 0);

        check_report(what, report, "ve", env_dir);
        check_report(what, report, "vp", NASTY_PROMPT);
        /* Sourced twice, but the env is on PATH once. */
        check_report(what, report, "path", path);
        check_report(what, report, "ph", "<unset>");
        check_report(what, report, "tool", "env");
        check_report(what, report, "path_after", path0);
        check_report(what, report, "ph_after", "/old/home");
        check_report(what, report, "ve_after", "<unset>");
        check_report(what, report, "vp_after", "<unset>");
        check_report(what, report, "tool_after", "outside");
        check_report(what, report, "deactivate", "gone");
        check_report(what, report, "done", "yes");
        if (shown) {
                check_report(what, report, "shown", shown);
                check_report(what, report, "shown_after", shown_after);
                check_report(what, report, "shown_disabled", shown_after);
        }
}

/* bash and zsh share the script and this driver; "shown" is PS1 after the
 * shell's own prompt expansion, which is what the user sees. */
static const char sh_driver[] =
        "set -euo pipefail\n"
        "case \"${VRUN_T_MODE:-}\" in\n"
        "novars) shopt -u promptvars ;;\n"
        "posix) set -o posix ;;\n"
        "subst) setopt promptsubst promptbang ;;\n"
        "nopercent) setopt nopromptpercent promptsubst ;;\n"
        "esac\n"
        "exec 3>\"$VRUN_T_OUT\"\n"
        "out () { printf '%s=%s\\n' \"$1\" \"$2\" >&3; }\n"
        "shown () {\n"
        "    if [ -n \"${ZSH_VERSION:-}\" ]; then out \"$1\" \"${(%%)PS1}\"; else out \"$1\" \"${PS1@P}\"; fi\n"
        "}\n"
        "PS1='old> '\n"
        "PYTHONHOME=/old/home\n"
        "export PYTHONHOME\n"
        "PATH=$VRUN_T_OUTSIDE:$PATH\n"
        "out path0 \"$PATH\"\n"
        "vrun-test-tool >/dev/null\n"
        ". \"$VRUN_T_ACT\"\n"
        ". \"$VRUN_T_ACT\"\n"
        "out ve \"$VIRTUAL_ENV\"\n"
        "out vp \"$VIRTUAL_ENV_PROMPT\"\n"
        "out path \"$PATH\"\n"
        "out ph \"${PYTHONHOME-<unset>}\"\n"
        /* Run in this shell, so that the shell remembers where it was. */
        "vrun-test-tool >/dev/null\n"
        "out tool \"$(vrun-test-tool)\"\n"
        "out ps1 \"$PS1\"\n"
        "shown shown\n"
        "deactivate\n"
        "out path_after \"$PATH\"\n"
        "out ph_after \"${PYTHONHOME-<unset>}\"\n"
        "out ve_after \"${VIRTUAL_ENV-<unset>}\"\n"
        "out vp_after \"${VIRTUAL_ENV_PROMPT-<unset>}\"\n"
        "out tool_after \"$(vrun-test-tool)\"\n"
        "out ps1_after \"$PS1\"\n"
        "shown shown_after\n"
        "if typeset -f deactivate >/dev/null 2>&1; then out deactivate defined; else out deactivate gone; fi\n"
        "VIRTUAL_ENV_DISABLE_PROMPT=1\n"
        ". \"$VRUN_T_ACT\"\n"
        "shown shown_disabled\n"
        "deactivate\n"
        "out done yes\n";

static const char csh_driver[] = "set prompt = 'old> '\n"
                                 "setenv PYTHONHOME /old/home\n"
                                 "setenv PATH \"${VRUN_T_OUTSIDE}:$PATH\"\n"
                                 "printf 'path0=%s\\n' \"$PATH\" > \"$VRUN_T_OUT\"\n"
                                 "vrun-test-tool > /dev/null\n"
                                 "source \"$VRUN_T_ACT\"\n"
                                 "source \"$VRUN_T_ACT\"\n"
                                 "printf 've=%s\\n' \"$VIRTUAL_ENV\" >> \"$VRUN_T_OUT\"\n"
                                 "printf 'vp=%s\\n' \"$VIRTUAL_ENV_PROMPT\" >> \"$VRUN_T_OUT\"\n"
                                 "printf 'path=%s\\n' \"$PATH\" >> \"$VRUN_T_OUT\"\n"
                                 "if ($?PYTHONHOME) then\n"
                                 "    printf 'ph=%s\\n' \"$PYTHONHOME\" >> \"$VRUN_T_OUT\"\n"
                                 "else\n"
                                 "    printf 'ph=<unset>\\n' >> \"$VRUN_T_OUT\"\n"
                                 "endif\n"
                                 "vrun-test-tool > /dev/null\n"
                                 "printf 'tool=%s\\n' \"`vrun-test-tool`\" >> \"$VRUN_T_OUT\"\n"
                                 "deactivate\n"
                                 "printf 'path_after=%s\\n' \"$PATH\" >> \"$VRUN_T_OUT\"\n"
                                 "printf 'ph_after=%s\\n' \"$PYTHONHOME\" >> \"$VRUN_T_OUT\"\n"
                                 "printf 've_after=<unset>\\n' >> \"$VRUN_T_OUT\"\n"
                                 "if ($?VIRTUAL_ENV) printf 've_after=set\\n' >> \"$VRUN_T_OUT\"\n"
                                 "printf 'vp_after=<unset>\\n' >> \"$VRUN_T_OUT\"\n"
                                 "if ($?VIRTUAL_ENV_PROMPT) printf 'vp_after=set\\n' >> \"$VRUN_T_OUT\"\n"
                                 "printf 'tool_after=%s\\n' \"`vrun-test-tool`\" >> \"$VRUN_T_OUT\"\n"
                                 "printf 'prompt_after=%s\\n' \"$prompt\" >> \"$VRUN_T_OUT\"\n"
                                 "set n = `alias deactivate | wc -c`\n"
                                 "if ($n == 0) printf 'deactivate=gone\\n' >> \"$VRUN_T_OUT\"\n"
                                 "setenv VIRTUAL_ENV_DISABLE_PROMPT 1\n"
                                 "source \"$VRUN_T_ACT\"\n"
                                 "printf 'prompt_disabled=%s\\n' \"$prompt\" >> \"$VRUN_T_OUT\"\n"
                                 "deactivate\n"
                                 "printf 'done=yes\\n' >> \"$VRUN_T_OUT\"\n";

static const char fish_driver[] = "function fish_prompt\n"
                                  "    printf 'old%s> ' $status\n"
                                  "end\n"
                                  "function out\n"
                                  "    printf '%s=%s\\n' $argv[1] \"$argv[2]\" >> $VRUN_T_OUT\n"
                                  "end\n"
                                  "set -gx PYTHONHOME /old/home\n"
                                  "set -gx PATH $VRUN_T_OUTSIDE $PATH\n"
                                  "out path0 (string join : $PATH)\n"
                                  "vrun-test-tool > /dev/null\n"
                                  "source $VRUN_T_ACT\n"
                                  "source $VRUN_T_ACT\n"
                                  "out ve $VIRTUAL_ENV\n"
                                  "out vp $VIRTUAL_ENV_PROMPT\n"
                                  "out path (string join : $PATH)\n"
                                  "if set -q PYTHONHOME; out ph $PYTHONHOME; else; out ph '<unset>'; end\n"
                                  "out tool (vrun-test-tool)\n"
                                  /* The old prompt shows $status: the wrapper must hand it on. */
                                  "false\n"
                                  "out shown (fish_prompt)\n"
                                  "deactivate\n"
                                  "out path_after (string join : $PATH)\n"
                                  "out ph_after $PYTHONHOME\n"
                                  "if set -q VIRTUAL_ENV; out ve_after set; else; out ve_after '<unset>'; end\n"
                                  "if set -q VIRTUAL_ENV_PROMPT; out vp_after set; else; out vp_after '<unset>'; end\n"
                                  "out tool_after (vrun-test-tool)\n"
                                  "false\n"
                                  "out shown_after (fish_prompt)\n"
                                  "if functions -q deactivate; out deactivate defined; else; out deactivate gone; end\n"
                                  "set -gx VIRTUAL_ENV_DISABLE_PROMPT 1\n"
                                  "source $VRUN_T_ACT\n"
                                  "false\n"
                                  "out shown_disabled (fish_prompt)\n"
                                  "deactivate\n"
                                  "out done yes\n";

static void write_driver(const char *name, const char *text) {
        _cleanup_free_ char *path = path_join(tmp_root, name);
        CHECK_INTEQ(write_file_at(AT_FDCWD, path, text, strlen(text), 0644, 1), 0);
}

static void set_script(const char *name) {
        _cleanup_free_ char *path = path_join(bin_dir, name);
        setenv("VRUN_T_ACT", path, 1);
}

static void test_sh_family(const char *shell, const char *cmd, const char *const *modes, size_t n_modes) {
        if (!want_shell(shell))
                return;
        set_script("activate");
        for (size_t i = 0; i < n_modes; i++) {
                _cleanup_free_ char *what = NULL;
                CHECK(asprintf(&what, "%s %s", shell, modes[i][0] ? modes[i] : "(default)") > 0);
                setenv("VRUN_T_MODE", modes[i], 1);
                _cleanup_free_ char *report = run_driver(what, cmd);
                check_common(what, report, "(" NASTY_PROMPT ") old> ", "old> ");
                check_report(what, report, "ps1_after", "old> ");
        }
        unsetenv("VRUN_T_MODE");
}

static void test_plain_prompt(void) {
        /* The simple case users know: PS1 is literally "(prompt) " + PS1. */
        _cleanup_free_ char *plain_bin = path_join(tmp_root, "plain/bin");
        CHECK_INTEQ(mkdir_p(plain_bin, 0755), 0);
        _cleanup_close_ int fd = open(plain_bin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *plain = path_dirname(plain_bin);
        CHECK_INTEQ(activate_write_scripts(fd, plain, "plain-env", true), 0);
        _cleanup_free_ char *act = path_join(plain_bin, "activate");
        setenv("VRUN_T_ACT", act, 1);
        _cleanup_free_ char *report = run_driver("bash plain prompt", "bash --norc --noprofile sh-driver");
        check_report("bash plain prompt", report, "ps1", "(plain-env) old> ");
        check_report("bash plain prompt", report, "vp", "plain-env");
        check_report("bash plain prompt", report, "ps1_after", "old> ");
}

static void test_csh(void) {
        if (!want_shell("tcsh"))
                return;
        set_script("activate.csh");
        _cleanup_free_ char *report = run_driver("tcsh", "tcsh -f csh-driver");
        check_common("tcsh", report, NULL, NULL);
        check_report("tcsh", report, "prompt_after", "old> ");
        check_report("tcsh", report, "prompt_disabled", "old> ");

        /* Only an interactive tcsh expands $prompt; it prints it once more at
         * the end of its input, after activation. */
        free(run_driver("tcsh -i", "printf '%s\\n' \"set prompt = 'old> '\" 'source \"$VRUN_T_ACT\"' "
                                   "| tcsh -f -i >\"$VRUN_T_OUT\" 2>/dev/null"));
        _cleanup_free_ char *out = path_join(tmp_root, "report");
        tap_checks++;
        if (!file_contains(out, "(" NASTY_PROMPT ") old> ")) {
                tap_failures++;
                fprintf(stderr, "not ok tcsh -i: the prompt does not show \"(%s) old> \"\n", NASTY_PROMPT);
        }
}

static void test_fish(void) {
        if (!want_shell("fish"))
                return;
        set_script("activate.fish");
        _cleanup_free_ char *report = run_driver("fish", "fish --no-config fish-driver");
        check_common("fish", report, "(" NASTY_PROMPT ") old1> ", "old1> ");
}

static int write_tool(const char *dir, const char *says) {
        _cleanup_free_ char *path = path_join(dir, "vrun-test-tool");
        _cleanup_free_ char *text = NULL;
        if (!path || asprintf(&text, "#!/bin/sh\necho %s\n", says) < 0)
                return -ENOMEM;
        return write_file_at(AT_FDCWD, path, text, strlen(text), 0755, 1);
}

int main(void) {
        umask(022);
        test_quoting();

        char tmpl[] = "/tmp/vrun-test-activate.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        tmp_root = tmpl;
        env_dir = path_join(tmp_root, NASTY_DIR);
        bin_dir = path_join(env_dir, "bin");
        CHECK_INTEQ(mkdir_p(bin_dir, 0755), 0);
        _cleanup_free_ char *outside = path_join(tmp_root, "outside");
        CHECK_INTEQ(mkdir_p(outside, 0755), 0);
        CHECK_INTEQ(write_tool(bin_dir, "env"), 0);
        CHECK_INTEQ(write_tool(outside, "outside"), 0);

        test_write();

        /* The drivers run in tmp_root so that any "touch PWNED" shows, with
         * nothing from the caller's environment that changes the shells. */
        CHECK_INTEQ(chdir(tmp_root), 0);
        setenv("VRUN_T_OUTSIDE", outside, 1);
        unsetenv("BASH_ENV");
        unsetenv("ENV");
        unsetenv("VIRTUAL_ENV_DISABLE_PROMPT");
        write_driver("sh-driver", sh_driver);
        write_driver("csh-driver", csh_driver);
        write_driver("fish-driver", fish_driver);

        static const char *const bash_modes[] = { "", "novars", "posix" };
        test_sh_family("bash", "bash --norc --noprofile sh-driver", bash_modes, ELEMENTSOF(bash_modes));
        static const char *const zsh_modes[] = { "", "subst", "nopercent" };
        test_sh_family("zsh", "zsh -f sh-driver", zsh_modes, ELEMENTSOF(zsh_modes));
        test_plain_prompt();
        test_csh();
        test_fish();
        /* pwsh is not packaged for Debian: Activate.ps1 is only checked as
         * text, in test_write(). */
        if (shell_installed("pwsh"))
                printf("# note: pwsh is installed but Activate.ps1 is not run by this test\n");

        CHECK_INTEQ(chdir("/"), 0);
        CHECK_INTEQ(rm_rf_at(AT_FDCWD, tmp_root), 0);
        free(bin_dir);
        free(env_dir);
        return tap_finish();
}
