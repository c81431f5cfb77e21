#include "arch/x86_64/i8042.h"

#include <string.h>

#define I8042_CMD_OFFSET 4
#define I8042_CMD_RESET	 0xfe

static void i8042_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	(void)dev;
	(void)off;
	memset(data, 0, size); /* status: both buffers empty; no data */
}

static void i8042_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct i8042 *k = dev;
	(void)size;
	if (off == I8042_CMD_OFFSET && data[0] == I8042_CMD_RESET && k->reset)
		k->reset(k->ctx);
}

const struct io_device_ops i8042_io_ops = { .read = i8042_read, .write = i8042_write };
