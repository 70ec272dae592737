/* Console scripts: the [console_scripts]/[gui_scripts] of a wheel's
 * entry_points.txt, named for the target interpreter the way pip names them,
 * and the launcher each becomes in the env's bin/. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#define SCRIPTS_MAX 1024
/* Kernels before 5.1 read only 128 bytes of "#!" line including the newline
 * and silently cut the interpreter path; pip/distlib use the same bound. */
#define SHEBANG_MAX 127

typedef struct Script {
        char *name;
        const char *module, *attr; /* point into the parsed text */
} Script;

typedef struct ScriptList {
        Script *s;
        size_t n;
} ScriptList;

void script_list_done(ScriptList *l);

/* Collects the scripts of an entry_points.txt (NUL-terminated), parsed in
 * place; a later definition of a name replaces an earlier one. -EBADMSG for
 * a script line without a callable, a name that is not one safe path
 * component, or a module/attribute that is not a dotted Python name. */
int entry_points_parse(char *text, ScriptList *l);

/* pip's wheel carries "pip3.N" for whichever Python built it; like pip
 * itself, name pip's and easy_install's scripts after the interpreter they
 * will run on. */
int scripts_rename_versioned(ScriptList *l, int major, int minor);

/* The first line(s) that make the kernel run python: "#!python" when that
 * fits the kernel's limit and has no whitespace, else pip's sh trampoline. */
void script_put_shebang(FILE *f, const char *python);
/* The whole launcher of one entry point. */
void script_put_console(FILE *f, const char *python, const char *module, const char *attr);
