/*
 * Privilege drop.
 */
#include "server/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
privileges_drop(const char *user, char *err, size_t errlen)
{
    struct passwd *pw;

    if (geteuid() != 0 || !user)
        return 0;
    if (!(pw = getpwnam(user))) {
        snprintf(err, errlen, "no such user '%s'", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        snprintf(err, errlen, "cannot become '%s': %s", user,
                 strerror(errno));
        return -1;
    }
    /* Make sure there is no way back. */
    if (setuid(0) == 0) {
        snprintf(err, errlen, "still able to regain root after dropping");
        return -1;
    }
    return 0;
}
