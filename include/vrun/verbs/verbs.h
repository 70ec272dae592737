/* Entry points of the verbs besides create and run. Each returns the exit
 * status for main (vrun/exit.h: the contract) and logs its own errors. */
#pragma once

#include "vrun/verbs/cli.h"

/* vrun profiles [--json] [NAME] */
int profiles_main(const Cli *c);
/* vrun shell [RUN OPTIONS] ENV, and `vrun ENV`: the user's shell, activated,
 * inside the sandbox; the shell's exit status, or run's failure statuses */
int shell_main(const Cli *c);
/* vrun prove [RUN OPTIONS] [--module NAME]... [--json] ENV: 0 when every
 * check holds, 1 when one fails (a leak), 2 usage, 125 when vrun failed */
int prove_main(const Cli *c);
/* vrun info [--json] ENV: 1 when ENV is missing or unusable */
int info_main(const Cli *c);
/* vrun verify [--json] ENV: 0 when ENV is as installed, 1 when something
 * was found (each finding named) or ENV cannot be read */
int verify_main(const Cli *c);
/* vrun doctor [--json]: exit 0 when the kernel gives vrun all it needs */
int doctor_main(const Cli *c);
/* vrun export [RUN OPTIONS] (--bundle DIR | --oci DIR [--tag T] | --seccomp-json
 * FILE)... ENV [CMD ARGS...]: 0, 1 when the export failed, 2 usage */
int export_main(const Cli *c);
