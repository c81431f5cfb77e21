/*
 * REFRESH: what a guest restored from a template must not share with its
 * siblings or keep from the past: the wall clock, and the random pool.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int refresh_apply(int64_t time_ns, const uint8_t *seed, size_t len, struct husk_err *e)
{
	struct timespec ts = { .tv_sec = time_ns / 1000000000, .tv_nsec = time_ns % 1000000000 };
	/* struct rand_pool_info ends in a flexible array: the seed follows it */
	union {
		struct rand_pool_info info;
		uint8_t bytes[sizeof(struct rand_pool_info) + REFRESH_SEED_MAX];
	} pool;
	int fd, r = 0;

	if (len > REFRESH_SEED_MAX)
		return husk_err_set(e, EINVAL, "refresh: %zu bytes of seed, at most %d", len,
				    REFRESH_SEED_MAX);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return husk_err_set(e, errno, "refresh: setting the clock: %s", strerror(errno));
	if ((fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC)) < 0)
		return husk_err_set(e, errno, "refresh: /dev/urandom: %s", strerror(errno));
	pool.info.entropy_count = (int)(len * 8);
	pool.info.buf_size = (int)len;
	memcpy(pool.bytes + offsetof(struct rand_pool_info, buf), seed, len);
	/* credited, so that the reseed that follows draws on it */
	if (ioctl(fd, RNDADDENTROPY, &pool) < 0)
		r = husk_err_set(e, errno, "refresh: adding entropy: %s", strerror(errno));
	else if (ioctl(fd, RNDRESEEDCRNG) < 0)
		r = husk_err_set(e, errno, "refresh: reseeding the generator: %s", strerror(errno));
	explicit_bzero(&pool, sizeof(pool));
	close(fd);
	return r;
}
