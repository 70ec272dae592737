#include "util/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"

extern char **environ;

int spawn_capture(char *const *argv, bool show_stderr, size_t max, char **ret) {
        return spawn_capture_stdin(argv, -1, show_stderr, max, ret);
}

int spawn_capture_stdin(char *const *argv, int stdin_fd, bool show_stderr, size_t max, char **ret) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        _cleanup_close_ int rd = p[0];
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        if (stdin_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, stdin_fd, STDIN_FILENO);
        else
                posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (!show_stderr)
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addchdir_np(&fa, "/");
        pid_t pid;
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (r != 0)
                return -r;
        _cleanup_free_ char *out = NULL;
        r = read_fd_full(rd, max, &out);
        if (r < 0)
                kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -ENOEXEC;
        *ret = TAKE_PTR(out);
        return 0;
}
