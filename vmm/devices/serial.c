#include "devices/serial.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "virtio/blob.h"

enum {
	UART_RX_TX = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7
};

#define UART_LCR_DLAB	0x80
#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE 0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MCR_LOOP	0x10
#define UART_MSR_IDLE	0xb0 /* DCD, DSR, CTS */

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;
	if ((s->ier & UART_IER_THRI) && s->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & UART_IIR_NO_INT);
	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->hooks && s->hooks->irq)
			s->hooks->irq(s->ctx, level);
	}
}

static void serial_tx(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP)
		return; /* loopback: nothing leaves the UART */
	console_out_put(&s->out, &c, 1);
}

static void serial_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	struct serial *s = dev;
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RX_TX:
		v = (s->lcr & UART_LCR_DLAB) ? s->dll : 0; /* no input yet */
		break;
	case UART_IER: v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier; break;
	case UART_IIR_FCR:
		v = serial_iir(s);
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thri_pending = false; /* reading IIR acknowledges THRE */
		break;
	case UART_LCR: v = s->lcr; break;
	case UART_MCR: v = s->mcr; break;
	case UART_LSR: v = UART_LSR_THRE | UART_LSR_TEMT; break;
	case UART_MSR:
		if (s->mcr & UART_MCR_LOOP)
			v = (uint8_t)(((s->mcr & 0x0c) << 4) | ((s->mcr & 0x01) << 5) |
				      ((s->mcr & 0x02) << 3));
		else
			v = UART_MSR_IDLE;
		break;
	case UART_SCR: v = s->scr; break;
	default: break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	memset(data, 0, size);
	data[0] = v;
}

static void serial_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct serial *s = dev;
	uint8_t v = data[0];

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RX_TX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
		} else {
			serial_tx(s, v);
			s->thri_pending = true; /* sent at once: THR empty again */
		}
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
		} else {
			if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR: s->fcr = v; break;
	case UART_LCR: s->lcr = v; break;
	case UART_MCR: s->mcr = v & 0x1f; break;
	case UART_SCR: s->scr = v; break;
	default: break; /* LSR and MSR are read-only */
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct io_device_ops serial_io_ops = { .read = serial_read, .write = serial_write };

void serial_init(struct serial *s, int out_fd, const struct serial_hooks *hooks, void *ctx)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->hooks = hooks;
	s->ctx = ctx;
	s->out_hooks = (struct console_hooks){
		.first_byte = hooks ? hooks->first_byte : NULL,
		.line = hooks ? hooks->line : NULL,
	};
	console_out_init(&s->out, out_fd, &s->out_hooks, ctx);
}

void serial_flush(struct serial *s)
{
	console_out_flush(&s->out);
}

void serial_destroy(struct serial *s)
{
	console_out_destroy(&s->out);
	pthread_mutex_destroy(&s->lock);
}

/* --- snapshots ------------------------------------------------------------ */

#define SERIAL_BLOB_MAGIC   0x54524155 /* "UART" */
#define SERIAL_BLOB_VERSION 1

int serial_save(struct serial *s, void **blob, size_t *len)
{
	struct blob_writer w;
	blob_writer_init(&w);
	blob_put_header(&w, SERIAL_BLOB_MAGIC, SERIAL_BLOB_VERSION);
	pthread_mutex_lock(&s->lock);
	const uint8_t regs[] = { s->ier, s->lcr, s->mcr, s->scr, s->fcr, s->dll, s->dlm };
	blob_put_bytes(&w, regs, sizeof(regs));
	blob_put_u8(&w, s->thri_pending);
	pthread_mutex_unlock(&s->lock);
	return blob_writer_finish(&w, "serial", blob, len);
}

int serial_restore(struct serial *s, const void *blob, size_t len)
{
	struct blob_reader r;
	uint8_t regs[7];
	bool thri_pending;

	blob_reader_init(&r, blob, len);
	if (!blob_get_header(&r, "serial", SERIAL_BLOB_MAGIC, SERIAL_BLOB_VERSION))
		return -EINVAL;
	blob_get_bytes(&r, regs, sizeof(regs));
	blob_get_bool(&r, &thri_pending);
	if (blob_reader_end(&r, "serial") < 0)
		return -EINVAL;
	/* what the guest cannot write cannot be restored either */
	if ((regs[0] & ~0x0f) || (regs[2] & ~0x1f)) {
		log_err("serial", "state blob: IER %#x or MCR %#x out of range", regs[0], regs[2]);
		return -EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	s->ier = regs[0];
	s->lcr = regs[1];
	s->mcr = regs[2];
	s->scr = regs[3];
	s->fcr = regs[4];
	s->dll = regs[5];
	s->dlm = regs[6];
	s->thri_pending = thri_pending;
	/* the line follows the registers; KVM is told its level again */
	s->irq_level = !(serial_iir(s) & UART_IIR_NO_INT);
	if (s->hooks && s->hooks->irq)
		s->hooks->irq(s->ctx, s->irq_level);
	pthread_mutex_unlock(&s->lock);
	return 0;
}
