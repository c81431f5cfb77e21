/*
 * An error that names the problem: a negative errno for the caller's control
 * flow and a message for the person. Shared by host and guest code; the
 * message is what the agent sends back in an error reply and what `husk`
 * prints. The code is common/error.c.
 */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#define HUSK_ERR_MSG_MAX 256

struct husk_err {
	int code;		    /* positive errno, 0 when no error */
	char msg[HUSK_ERR_MSG_MAX]; /* one line, no trailing newline */
};

/*
 * runc's words for what engines test in a runtime's output (its stderr, or
 * the "msg" of the last error in --log), kept verbatim:
 *   containerd pkg/process/utils.go checkKillError (kill, kill --all): "container
 *     not running", "no such process", "os: process already finished" mean the
 *     process is gone, "does not exist" that the container is; any other
 *     failure is retried (CRI: with a backoff, for minutes);
 *   containerd pkg/process/init.go delete: "does not exist" is no error;
 *   Podman libpod/oci_conmon_common.go UpdateContainerStatus (`state`, after
 *     any failed kill): "does not exist" or "No such file" mean exited;
 *   Docker libcontainerd/remote/client.go wrapError: "container does not
 *     exist", "not found", "no such container" mean not found.
 */
#define HUSK_ERR_NOT_EXIST   "container does not exist"
#define HUSK_ERR_NOT_RUNNING "container not running"
#define HUSK_ERR_NOT_PAUSED  "container not paused"
#define HUSK_ERR_EXISTS	     "container with given ID already exists"

/* Record an error (the first one wins: it is the most specific); returns -code. */
int husk_err_set(struct husk_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the recorded message with context ("create c1: " + msg); returns -code. */
int husk_err_wrap(struct husk_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
