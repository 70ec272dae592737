/* Root runs nothing as root. Started by root, the sandbox's user namespace
 * maps its uid and gid 0 to an unprivileged host id picked for the run, so
 * the program owns no file of the host's root (/etc/shadow, /root, root's
 * 0600 files). What the program must still own (the env, the working
 * directory, writable binds) is mounted idmapped: the files that are root's
 * on disk appear as the program's inside, and what it writes there lands
 * as root's on disk. An idmapped mount can only be made with CAP_SYS_ADMIN
 * over the filesystem's user namespace, so vrun makes them, as root in the
 * initial namespace, before it clones the sandbox, which inherits them. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Host ids root's runs are mapped to when /etc/subuid has no range for
 * root: a block above the ranges systemd hands out to containers and
 * dynamic users (0x70000000..0x7FFDFFFF is unused by it). */
#define IDMAP_FALLBACK_BASE  0x7E560000u
#define IDMAP_FALLBACK_COUNT 65536u

/* The unprivileged host id (used as uid and gid) for this run: one of root's
 * subordinate ids (/etc/subuid and /etc/subgid, the first range both give
 * "root"), else one of the fallback block, chosen by pid so that runs at the
 * same time get different ids. */
int idmap_pick_host_id(uid_t *ret);

/* Whether this process is the host's root (uid 0 of the initial user
 * namespace), the only one that can map its runs to another id: root of a
 * container's user namespace runs as itself, like any user. */
bool idmap_is_host_root(void);

/* A user namespace that maps 0 to host_id (uids and gids), as an fd: made
 * by a short-lived child, for MOUNT_ATTR_IDMAP. Needs CAP_SETUID and
 * CAP_SETGID. */
int idmap_userns_open(uid_t host_id, int *ret_fd);

/* Writes uid_map and gid_map "0 host_id 1" of process pid (a child that
 * just made its user namespace and waits for this). */
int idmap_write_maps(pid_t pid, uid_t host_id);

/* Idmaps a detached tree (an open_tree clone) through userns_fd: every
 * mount of it, else its top mount alone. -EINVAL/-EPERM/-EOPNOTSUPP: the
 * filesystem cannot be idmapped. */
int idmap_apply(int tree_fd, int userns_fd);
/* A detached clone of the tree at path, idmapped. */
int idmap_clone(const char *path, int userns_fd, int *ret_fd);
