/* An OCI image layout (oci-layout, index.json, blobs/sha256/...) holding
 * two layers, the base (interpreter, libraries, /etc) and the env, so that
 * every env on one base shares the base layer's digest. Base layers are
 * cached by what they hold, under vrun's cache, so a second export of any
 * env on that base writes only the env layer. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "vrun/export/layer.h"
#include "vrun/export/rootfs.h"

typedef struct ImageInput {
        Rootfs *base;
        Rootfs *env;
        const json_t *config;  /* the image config's "config": User, Env, Entrypoint, Cmd, ... */
        int64_t created;       /* seconds since the epoch: every mtime and "created" */
        const char *cache_dir; /* vrun's cache; NULL: no base layer cache */
        const char *ref;       /* index.json's org.opencontainers.image.ref.name */
        const char *history_base;
        const char *history_env;
} ImageInput;

typedef struct ImageResult {
        char manifest[DIGEST_STR_SIZE];
        LayerInfo layers[2];
        bool base_cached;
} ImageResult;

/* Writes (or adds to) the layout at dir: a new or empty directory, or an
 * existing layout, whose index.json keeps its other references. */
int image_write_layout(const ImageInput *in, const char *dir, ImageResult *ret);

/* "amd64", "arm64", ...: the image's architecture, as Go names it. */
const char *image_architecture(void);
