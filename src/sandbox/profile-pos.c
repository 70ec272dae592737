/* A profile's text as JSON: parsed within limits, and where a value is in
 * it (jansson keeps no positions, so errors find theirs by scanning the raw
 * text along the value's JSON path), for errors that say FILE:LINE:COL. */
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/profile-internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/hint.h"

/* ---- positions: jansson keeps none, so errors find theirs in the raw text ---- */

JPath jpath_key(const JPath *p, const char *key) {
        JPath r = *p;
        if (r.n < ELEMENTSOF(r.c))
                r.c[r.n++] = (__typeof__(r.c[0])){ key, 0 };
        return r;
}

JPath jpath_index(const JPath *p, size_t index) {
        JPath r = *p;
        if (r.n < ELEMENTSOF(r.c))
                r.c[r.n++] = (__typeof__(r.c[0])){ NULL, index };
        return r;
}

/* "seccomp.deny[2].errno"; paths in messages name schema keys only. */
const char *jpath_format(const JPath *p, char *buf, size_t size) {
        size_t n = 0;
        buf[0] = 0;
        for (size_t i = 0; i < p->n && n < size; i++) {
                int k;
                if (p->c[i].key)
                        k = snprintf(buf + n, size - n, "%s%s", i > 0 ? "." : "", p->c[i].key);
                else
                        k = snprintf(buf + n, size - n, "[%zu]", p->c[i].index);
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        return buf;
}

static size_t skip_ws(const char *t, size_t len, size_t i) {
        while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'))
                i++;
        return i;
}

/* i at the opening profile_quote; returns the index after the closing one. */
static size_t skip_string(const char *t, size_t len, size_t i) {
        for (i++; i < len; i++) {
                if (t[i] == '\\')
                        i++;
                else if (t[i] == '"')
                        return i + 1;
        }
        return len;
}

static size_t skip_value(const char *t, size_t len, size_t i) {
        if (i >= len)
                return len;
        if (t[i] == '"')
                return skip_string(t, len, i);
        if (t[i] == '{' || t[i] == '[') {
                size_t depth = 0;
                while (i < len) {
                        if (t[i] == '"') {
                                i = skip_string(t, len, i);
                                continue;
                        }
                        if (t[i] == '{' || t[i] == '[')
                                depth++;
                        else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
                                return i + 1;
                        i++;
                }
                return len;
        }
        while (i < len && !strchr(",}] \t\r\n", t[i]))
                i++;
        return i;
}

/* The raw token t[0..n) (quotes included) spells key. Escapes are rare in keys; jansson
 * decodes those rather than a second JSON string decoder here. */
static bool token_is_key(const char *t, size_t n, const char *key) {
        if (n < 2)
                return false;
        if (!memchr(t, '\\', n))
                return n - 2 == strlen(key) && memcmp(t + 1, key, n - 2) == 0;
        _cleanup_json_ json_t *s = json_loadb(t, n, JSON_DECODE_ANY, NULL);
        return json_is_string(s) && strcmp(json_string_value(s), key) == 0;
}

/* Offset of the key (or array element) that path names; the deepest part found when the
 * text does not have it all. The text has passed jansson, so it is valid JSON. */
size_t jpath_locate(const char *t, size_t len, const JPath *path) {
        size_t i = skip_ws(t, len, 0), found = i;

        for (size_t k = 0; k < path->n; k++) {
                bool want_key = path->c[k].key != NULL, hit = false;

                if (i >= len || t[i] != (want_key ? '{' : '['))
                        break;
                i++;
                for (size_t idx = 0;; idx++) {
                        i = skip_ws(t, len, i);
                        if (i >= len || t[i] == '}' || t[i] == ']')
                                break;
                        if (want_key) {
                                size_t start = i, end;
                                if (t[i] != '"')
                                        break;
                                end = skip_string(t, len, i);
                                i = skip_ws(t, len, end);
                                if (i >= len || t[i] != ':')
                                        break;
                                i = skip_ws(t, len, i + 1);
                                if (token_is_key(t + start, end - start, path->c[k].key)) {
                                        found = start;
                                        hit = true;
                                        break;
                                }
                        } else if (idx == path->c[k].index) {
                                found = i;
                                hit = true;
                                break;
                        }
                        i = skip_ws(t, len, skip_value(t, len, i));
                        if (i >= len || t[i] != ',')
                                break;
                        i++;
                }
                if (!hit)
                        break;
        }
        return found;
}

/* Columns count characters, not bytes, as jansson's do. */
static void offset_to_position(const char *t, size_t len, size_t off, int *ret_line, int *ret_col) {
        int line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (t[i] == '\n') {
                        line++;
                        col = 1;
                } else if (((unsigned char) t[i] & 0xC0) != 0x80)
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* ---- error reporting ---- */

void source_log_at(const Source *s, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void source_log_at(const Source *s, size_t off, const char *fmt, ...) {
        char msg[1024];
        int line, col;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        offset_to_position(s->text, s->len, off, &line, &col);
        log_error("%s:%d:%d: %s", s->file, line, col, msg);
}

/* A user's string in a message: JSON-quoted, so control characters and quotes cannot
 * garble the line, and cut short so a 4 KiB value does not become the message. */
const char *profile_quote(const char *str, char *buf, size_t size) {
        char cut[72];
        size_t n = strlen(str);
        bool cut_short = n > 60;

        if (cut_short) {
                n = 60;
                while (n > 0 && ((unsigned char) str[n] & 0xC0) == 0x80)
                        n--;
        }
        memcpy(cut, str, n);
        cut[n] = 0;
        _cleanup_json_ json_t *j = json_string(cut);
        _cleanup_free_ char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        if (!q)
                snprintf(buf, size, "\"...\"");
        else if (cut_short && strlen(q) >= 1)
                snprintf(buf, size, "%.*s...\"", (int) strlen(q) - 1, q);
        else
                snprintf(buf, size, "%s", q);
        return buf;
}

const char *json_type_label(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "object";
        case JSON_ARRAY: return "array";
        case JSON_STRING: return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL: return "real number";
        case JSON_TRUE:
        case JSON_FALSE: return "boolean";
        case JSON_NULL: return "null";
        }
        return "unknown";
}

void profile_log_type(const Source *s, const JPath *at, const char *want, const json_t *v) {
        (void) fail(s, at, "\"%s\" must be %s, got %s", PATHSTR(at), want, json_type_label(v));
}

void profile_log_unknown_key(const Source *s, const JPath *at, const char *key, const char *const *known,
                             const JPath *parent) {
        _cleanup_free_ char *hint = hint_among(key, known);
        char where[300] = "", list[256] = "";

        if (parent->n > 0)
                snprintf(where, sizeof where, " in \"%s\"", PATHSTR(parent));
        if (hint) {
                (void) fail(s, at, "unknown key %s%s (did you mean \"%s\"?)", Q(key), where, hint);
                return;
        }
        size_t n = 0;
        for (size_t i = 0; known[i] && n < sizeof list; i++)
                n += (size_t) snprintf(list + n, sizeof list - n, "%s%s", i > 0 ? ", " : "", known[i]);
        (void) fail(s, at, "unknown key %s%s (known keys: %s)", Q(key), where, list);
}

int profile_key_lookup(const char *const *keys, const char *key) {
        for (size_t i = 0; keys[i]; i++)
                if (strcmp(keys[i], key) == 0)
                        return (int) i;
        return -1;
}

/* ---- limits every file passes before its meaning is looked at ---- */

int profile_check_limits(const Source *s, const JPath *at, json_t *v, unsigned depth) {
        const char *key;
        json_t *e;
        size_t i;
        int r;

        if (json_is_string(v)) {
                if (json_string_length(v) > PROFILE_MAX_STRING)
                        return fail(s, at, "%s: string is longer than %d bytes", PATHSTR(at), PROFILE_MAX_STRING);
                return 0;
        }
        if (!json_is_object(v) && !json_is_array(v))
                return 0;
        if (depth > PROFILE_MAX_DEPTH)
                return fail(s, at, "nesting is deeper than %d levels", PROFILE_MAX_DEPTH);
        if (json_is_object(v))
                json_object_foreach (v, key, e) {
                        JPath kp = jpath_key(at, key);
                        if (strlen(key) > PROFILE_MAX_STRING)
                                return fail(s, &kp, "key is longer than %d bytes", PROFILE_MAX_STRING);
                        r = profile_check_limits(s, &kp, e, depth + 1);
                        if (r < 0)
                                return r;
                }
        else
                json_array_foreach (v, i, e) {
                        JPath ep = jpath_index(at, i);
                        r = profile_check_limits(s, &ep, e, depth + 1);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* jansson names the place of a syntax error; a duplicate key it names by the offset
 * after the key, which is turned back into the key's start for the message. */
int profile_parse_text(const Source *s, json_t **ret) {
        json_error_t err;
        json_t *root = json_loadb(s->text, s->len, JSON_REJECT_DUPLICATES, &err);

        if (root) {
                *ret = root;
                return 0;
        }
        if (json_error_code(&err) == json_error_duplicate_key && err.position > 0) {
                size_t pos = (size_t) err.position;
                for (size_t i = 0; i < pos && i < s->len;) {
                        if (s->text[i] != '"') {
                                i++;
                                continue;
                        }
                        size_t end = skip_string(s->text, s->len, i);
                        if (end == pos) {
                                _cleanup_json_ json_t *k = json_loadb(s->text + i, end - i, JSON_DECODE_ANY, NULL);
                                if (json_is_string(k))
                                        return fail_at_offset(s, i, "duplicate key %s", Q(json_string_value(k)));
                                break;
                        }
                        i = end;
                }
        }
        /* jansson quotes the text near the error raw; a newline in it would split the line. */
        char text[4 * JSON_ERROR_TEXT_LENGTH];
        size_t n = 0;
        for (const char *c = err.text; *c && n + 5 < sizeof text; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        n += (size_t) snprintf(text + n, sizeof text - n, "\\x%02x", (unsigned char) *c);
                else
                        text[n++] = *c;
        text[n] = 0;
        log_error("%s:%d:%d: %s", s->file, err.line > 0 ? err.line : 1, err.column > 0 ? err.column : 1, text);
        return -EINVAL;
}
