/* Port I/O dispatch: devices claim port ranges; unclaimed reads float high. */
#ifndef HUSK_DEVICES_IOBUS_H
#define HUSK_DEVICES_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

struct io_device_ops {
	/* offset is from the range's base; data holds size bytes */
	void (*read)(void *dev, uint16_t offset, uint8_t *data, unsigned size);
	void (*write)(void *dev, uint16_t offset, const uint8_t *data, unsigned size);
};

#define IOBUS_MAX 8

struct iobus {
	unsigned n;
	struct {
		uint16_t base, len;
		const struct io_device_ops *ops;
		void *dev;
	} r[IOBUS_MAX];
};

int iobus_register(struct iobus *b, uint16_t base, uint16_t len, const struct io_device_ops *ops,
		   void *dev);
void iobus_access(const struct iobus *b, uint16_t port, bool is_write, uint8_t *data,
		  unsigned size);

#endif
