/* What the parts of the profile loader share: the limits, the position
 * scanner that finds a JSON path in the raw text (jansson keeps none) and the
 * errors that name FILE:LINE:COL, the typed getters, quantities, and the
 * schema's entry points. profile.c loads files and resolves `extends`;
 * profile-schema.c knows the keys; profile-pos.c parses and locates;
 * profile-value.c and profile-quantity.c read values. */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vrun/sandbox/profile.h"

#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

#define PROFILE_MAX_STRING 4096
/* read_full_file_at() refuses a file of exactly its max bytes (it wants room to see EOF),
 * so it is asked for one more and the limit is checked here. */
#define READ_MAX (PROFILE_MAX_SIZE + 1)
/* env_allow entries; more is a generated or hostile profile, and merging is quadratic. */
#define PROFILE_MAX_LIST 1024
/* Same bound as seccomp.c applies to a policy's extra names. */
#define PROFILE_MAX_SYSCALLS 512
/* The kernel clamps larger errnos in a filter's return data (MAX_ERRNO). */
#define PROFILE_ERRNO_MAX 4095
/* Longest word a did-you-mean hint considers; longer ones are not typos. */
#define SIZE_K           UINT64_C(1024)
#define SIZE_M           (SIZE_K * 1024)
#define SIZE_G           (SIZE_M * 1024)
#define SIZE_T           (SIZE_G * 1024)
#define SIZE_MAX_PROFILE (1024 * SIZE_T)
#define DURATION_MAX     UINT64_C(31536000) /* a year */

typedef enum Quantity { Q_COUNT, Q_SIZE, Q_DURATION } Quantity;

typedef struct QuantitySpec {
        Quantity kind;
        bool unlimited_ok;
        uint64_t min, max;
        const char *range; /* min..max as the user writes it */
} QuantitySpec;

/* A path into the JSON document: keys and array indices from the top. */
typedef struct JPath {
        size_t n;
        struct {
                const char *key; /* NULL: an array element */
                size_t index;
        } c[PROFILE_MAX_DEPTH + 1];
} JPath;

JPath jpath_key(const JPath *p, const char *key);
JPath jpath_index(const JPath *p, size_t index);
const char *jpath_format(const JPath *p, char *buf, size_t size);
/* The offset of the value at path in the text (0 when not found). */
size_t jpath_locate(const char *t, size_t len, const JPath *path);

typedef struct Source {
        const char *file; /* as messages name it */
        const char *text;
        size_t len;
        bool final; /* applied onto the resolved parent: checks of the merged result */
} Source;

void source_log_at(const Source *s, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -EINVAL is spelled out here, not returned by the variadic function, which the static
 * analyser does not follow: it would go on to explore each failure as a success. */
#define fail_at_offset(s, off, ...) (source_log_at((s), (off), __VA_ARGS__), -EINVAL)
#define fail(s, path, ...)          fail_at_offset((s), jpath_locate((s)->text, (s)->len, (path)), __VA_ARGS__)

const char *profile_quote(const char *str, char *buf, size_t size);
#define QUOTE_SIZE 512
#define Q(str)     profile_quote((str), (char[QUOTE_SIZE]){}, QUOTE_SIZE)
#define PATHSTR(p) jpath_format((p), (char[256]){}, 256)

const char *json_type_label(const json_t *v);
/* Log; the macros return -EINVAL where the caller (and the static analyser,
 * which does not look into other files) can see it. */
void profile_log_type(const Source *s, const JPath *at, const char *want, const json_t *v);
void profile_log_unknown_key(const Source *s, const JPath *at, const char *key, const char *const *known,
                             const JPath *parent);
#define profile_fail_type(s, at, want, v) (profile_log_type((s), (at), (want), (v)), -EINVAL)
#define profile_fail_unknown_key(s, at, key, known, parent) \
        (profile_log_unknown_key((s), (at), (key), (known), (parent)), -EINVAL)
int profile_key_lookup(const char *const *keys, const char *key);

/* The text as JSON (no duplicate keys); logs. */
int profile_parse_text(const Source *s, json_t **ret);
/* Depth, string and list limits every file passes before its meaning is
 * looked at; logs. */
int profile_check_limits(const Source *s, const JPath *at, json_t *v, unsigned depth);

/* Typed values; each logs what is wrong and returns -EINVAL. */
int profile_get_string(const Source *s, const JPath *at, const json_t *v, const char **ret);
int profile_get_enum(const Source *s, const JPath *at, const json_t *v, const char *const *names, int *ret);
int profile_get_quantity(const Source *s, const JPath *at, const json_t *v, const QuantitySpec *q, uint64_t *ret);
int profile_get_errno(const Source *s, const JPath *at, const json_t *v, int *ret);
int profile_get_syscall(const Source *s, const JPath *at, const json_t *v, const char **ret_name, int *ret_nr);
int profile_get_path(const Source *s, const JPath *at, const json_t *v, char **ret);
int profile_get_string_list(const Source *s, const JPath *at, json_t *v, size_t max, const char *const *names,
                            bool (*check)(const char *), const char *what, char ***ret);
/* The name of an errno value ("EPERM"), or NULL. */
const char *profile_errno_name(int value);

/* The schema: applies one file's JSON onto p. */
int profile_apply(Profile *p, const Source *s, json_t *root);
int profile_set_string(char **slot, const char *value);
void profile_binds_clear(Profile *p);
void profile_deny_clear(Profile *p);
