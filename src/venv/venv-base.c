/* venv_find_base (vrun/venv/venv.h): which interpreter an existing env
 * runs on, decided by vrun's record rather than by the env, for `vrun run`
 * and `vrun create --upgrade`. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vrun/venv/venv.h"

void venv_base_done(VenvBase *b) {
        trust_report_done(&b->record);
        free(b->exe);
        interp_info_free(b->info);
        *b = (VenvBase){};
}

int venv_find_base(const char *env_abs, int env_fd, const PyvenvCfg *cfg, unsigned flags, VenvBase *ret) {
        int r = trust_check(env_abs, env_fd, &ret->record);
        if (r < 0 && r != -ENOENT && !(flags & VENV_BASE_UNREADABLE_IS_NEW)) {
                ret->step = VENV_BASE_RECORD;
                return r;
        }
        if (r >= 0 && ret->record.changes && !(flags & VENV_BASE_ALLOW_CHANGED)) {
                ret->step = VENV_BASE_CHANGED;
                return -EPERM;
        }
        if (r >= 0) {
                ret->step = VENV_BASE_RECORDED;
                r = interp_find(ret->record.base, &ret->exe);
        } else {
                ret->step = VENV_BASE_NAMED;
                r = venv_base_interpreter(env_abs, cfg, &ret->exe);
        }
        if (r < 0)
                return r;
        r = interp_load(ret->exe, &ret->info);
        if (r < 0) {
                ret->step = VENV_BASE_QUERY;
                return r;
        }
        return 0;
}

int venv_base_problem(const char *path) {
        return path && access(path, X_OK) < 0 ? negative_errno() : -ENOENT;
}
