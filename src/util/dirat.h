/* Directories relative to a directory fd: walking (and creating) the
 * directories of many sorted paths while opening each one once, creating a
 * path of directories, and a fresh uniquely named directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/path.h"

#define DIR_DEPTH_MAX 64
#define TEMP_NAME_MAX 32

/* Keeps the fds of the current directory and its parents open, so walking
 * names in sorted order (with '/' first, see zip_name_compare()) opens (and
 * creates) each directory once and never resolves a path string twice.
 * Symlinks are never followed. */
typedef struct DirStack {
        int root_fd;
        bool create;
        size_t depth;
        int fds[DIR_DEPTH_MAX];
        size_t ends[DIR_DEPTH_MAX]; /* end of component i in path */
        char path[VRUN_PATH_MAX];
} DirStack;

/* With create, missing directories are made (0755). root_fd stays the
 * caller's. */
void dir_stack_init(DirStack *s, int root_fd, bool create);
void dir_stack_done(DirStack *s);
/* Returns (in *ret_fd, still owned by the stack) the directory dir[0..len)
 * below the root; an empty dir is the root itself. */
int dir_stack_enter(DirStack *s, const char *dir, size_t len, int *ret_fd);

/* Opens (creating with 0755 where missing) the relative dir below dirfd;
 * a new O_CLOEXEC fd. */
int mkdir_p_open_at(int dirfd, const char *dir, int *ret_fd);
/* Creates prefix + 8 random characters (0700) below dirfd and returns its
 * name. */
int mkdtemp_at(int dirfd, const char *prefix, char ret_name[TEMP_NAME_MAX]);
