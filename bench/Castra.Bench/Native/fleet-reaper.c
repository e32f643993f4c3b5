/*
 * fleet-reaper: launches the benchmark's fake-QEMU fleet and reaps it, like init does for real daemonized QEMU.
 *
 * Why it exists: a daemonized QEMU is re-parented to PID 1, which on a normal host (systemd) reaps it at once.
 * Some containers run a PID 1 that never reaps, so exited fakes would stay zombies: the PID table fills up over
 * repeated runs, and a hand-written `kill -0` loop (baseline a) would never see them go. Making this small process
 * the fleet's subreaper restores normal-host behaviour without putting any reaping work into the process that is
 * being measured.
 *
 * Protocol: each line on stdin is one launch, its arguments separated by TABs (argv[0] first). The launch is run
 * to completion (fake-qemu -daemonize returns once its pidfile and socket are ready) and one line is written to
 * stdout: "ok" or "fail <status>". At end of input it keeps reaping until it has no children left, then exits.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o fleet-reaper fleet-reaper.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64

static int sig_fd;

static void reap_all(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

/* Runs one launcher to completion while reaping anything else that exits meanwhile. */
static int launch(char *line)
{
    char *argv[MAX_ARGS + 1];
    int argc = 0, status = 0;
    pid_t pid;

    for (char *tok = strtok(line, "\t"); tok && argc < MAX_ARGS; tok = strtok(NULL, "\t"))
        argv[argc++] = tok;
    argv[argc] = NULL;
    if (argc == 0)
        return -1;

    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
    sigset_t mask;
    static char buf[65536];
    size_t len = 0;
    int input_open = 1;

    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("fleet-reaper: prctl(PR_SET_CHILD_SUBREAPER)");
        return 1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_fd < 0) {
        perror("fleet-reaper: signalfd");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    for (;;) {
        struct pollfd pf[2] = {{sig_fd, POLLIN, 0}, {0, POLLIN, 0}};
        struct signalfd_siginfo si;

        if (poll(pf, input_open ? 2 : 1, -1) < 0 && errno != EINTR)
            return 1;
        while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        }
        reap_all();

        if (input_open && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(0, buf + len, sizeof(buf) - 1 - len);
            char *nl;
            if (n <= 0) {
                input_open = 0;
            } else {
                len += (size_t)n;
                buf[len] = '\0';
                while ((nl = memchr(buf, '\n', len)) != NULL) {
                    size_t used = (size_t)(nl - buf) + 1;
                    int rc;
                    *nl = '\0';
                    rc = launch(buf);
                    if (rc == 0)
                        printf("ok\n");
                    else
                        printf("fail %d\n", rc);
                    memmove(buf, buf + used, len - used);
                    len -= used;
                }
            }
        }

        if (!input_open) {
            /* No more launches: leave once every fake has exited and been reaped. */
            if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
                return 0;
        }
    }
}
