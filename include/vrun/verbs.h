/* Entry points of the verbs besides create and run. Each returns the exit
 * status for main and logs its own errors. */
#pragma once

#include "vrun/cli.h"

/* vrun profiles [--json] [NAME] */
int profiles_main(const Cli *c);
