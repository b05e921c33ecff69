/* fakeusb.c - LD_PRELOAD stand-in for libusb-1.0 that presents ONE recorded USB device (a HID UPS, or
 * a Megatec/Q1 UPS behind one of the USB bridge chips NUT's nutdrv_qx/blazer_usb subdrivers talk to)
 * to an unmodified libusb program (Debian's usbhid-ups, nutdrv_qx, blazer_usb, ...).
 *
 * Origin: copied from the project's shared device rig (../shared/tools/hwrig/fakeusb.c, sha256
 * 6e15dcbe...), then extended here for nut-rs: Q1 bridges (`bridge`, `q1`), device vanish/return
 * (`unplug`, `replug`), `devnum`, `port`, `langid`, interrupt OUT. The Rust replay transport
 * (crates/transport/usb, `port = "replay:<spec>"`) reads the same spec and writes the same log lines;
 * keep the two in step (tests/rig/usb/README.md).
 *
 * Environment:
 *   FAKEUSB_SPEC=FILE     device spec (format below), required
 *   FAKEUSB_LOG=FILE      optional: one line per control/interrupt transfer
 *   FAKEUSB_EVENTS=FILE   optional: file a test appends spec lines to ("intr <hex>", "feature <id> <hex>",
 *                         "q1 Q1 -> ...", "unplug", "replug 7") while the driver runs; new complete lines
 *                         are applied before every transfer and before every device enumeration
 *   FAKEUSB_TRACE=FILE    optional: every libusb call with all its arguments and its result, so a test
 *                         can make the same calls on the Rust replay and compare the two logs
 *
 * Spec (text, one directive per line, '#' starts a comment line, hex bytes separated by blanks):
 *   vid 051d | pid 0002 | bcd 0106          USB IDs and bcdDevice (hex)
 *   bus 1 | iface 0                         bus number and HID interface number (decimal)
 *   devnum 2 | port 1                       device address on the bus, port number (decimal)
 *   imanufacturer <n> | iproduct <n> | iserial <n>   string indexes in the device descriptor
 *   string <n> <text>                       string descriptor n (UTF-8 text up to end of line)
 *   langid <hex>                            LANGID that string descriptor 0 lists (default 0409)
 *   desc <hex...>                           HID report descriptor bytes (successive lines append)
 *   feature <id> <hex incl. report id>      answer to GET_REPORT(Feature, id); SET_REPORT replaces it
 *   input <id> <hex incl. report id>        answer to GET_REPORT(Input, id)
 *                                           (either kind is used for the other when only one is recorded)
 *   intr <hex>                              queued interrupt-IN report, delivered once, in order
 *   unknown stall|zero                      GET_REPORT of an unrecorded id: STALL (default) or zero-filled
 *   bridge <name>                           the device is a Megatec/Q1 UPS behind this USB bridge: cypress,
 *                                           phoenix, ippon, krauler, fabula, hunnox, fuji, sgs, snr, ablerex,
 *                                           armac, phoenixtec (framing of each: tests/rig/usb/README.md)
 *   q1 <request> -> <reply>                 Q1 exchange, request/reply without the CR (a trailing literal \r is
 *                                           dropped); several lines for one request cycle in file order;
 *                                           reply <none> = the UPS stays silent. From the events file a q1
 *                                           line REPLACES the replies of its request (a status change).
 *   unplug                                  the device vanishes: open handles fail with NO_DEVICE, it is
 *                                           not enumerated
 *   replug [<devnum>]                       it returns (re-enumerated: old handles stay dead), optionally
 *                                           under a new device address
 *
 * Build: cc -shared -fPIC -O2 -o fakeusb.so fakeusb.c      (no libusb headers needed)
 * Use:   FAKEUSB_SPEC=dev.spec LD_PRELOAD=$PWD/fakeusb.so /lib/nut/usbhid-ups -s t -x port=auto -u root -d 1
 *
 * Only the libusb calls made by the NUT 2.8 USB drivers are provided (nm -D <driver> | grep libusb_).
 * The program's own binding to libusb-1.0.so.0 stays in place; the preloaded symbols win because the
 * drivers import them unversioned.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- libusb-1.0 public API subset (types, constants and prototypes as documented for libusb 1.0) ---- */

#define LIBUSB_CALL

typedef struct libusb_context libusb_context;
typedef struct libusb_device libusb_device;
typedef struct libusb_device_handle libusb_device_handle;

enum {
	LIBUSB_SUCCESS = 0,
	LIBUSB_ERROR_IO = -1,
	LIBUSB_ERROR_INVALID_PARAM = -2,
	LIBUSB_ERROR_ACCESS = -3,
	LIBUSB_ERROR_NO_DEVICE = -4,
	LIBUSB_ERROR_NOT_FOUND = -5,
	LIBUSB_ERROR_BUSY = -6,
	LIBUSB_ERROR_TIMEOUT = -7,
	LIBUSB_ERROR_OVERFLOW = -8,
	LIBUSB_ERROR_PIPE = -9,
	LIBUSB_ERROR_INTERRUPTED = -10,
	LIBUSB_ERROR_NO_MEM = -11,
	LIBUSB_ERROR_NOT_SUPPORTED = -12,
	LIBUSB_ERROR_OTHER = -99
};

enum {
	LIBUSB_DT_DEVICE = 0x01,
	LIBUSB_DT_CONFIG = 0x02,
	LIBUSB_DT_STRING = 0x03,
	LIBUSB_DT_INTERFACE = 0x04,
	LIBUSB_DT_ENDPOINT = 0x05,
	LIBUSB_DT_HID = 0x21,
	LIBUSB_DT_REPORT = 0x22
};

#define LIBUSB_CLASS_HID 0x03
#define LIBUSB_TRANSFER_TYPE_INTERRUPT 3
#define LIBUSB_REQUEST_GET_DESCRIPTOR 0x06
#define LIBUSB_REQUEST_TYPE_CLASS (0x01 << 5)

struct libusb_version {
	const uint16_t major, minor, micro, nano;
	const char *rc;
	const char *describe;
};

struct libusb_device_descriptor {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdUSB;
	uint8_t bDeviceClass;
	uint8_t bDeviceSubClass;
	uint8_t bDeviceProtocol;
	uint8_t bMaxPacketSize0;
	uint16_t idVendor;
	uint16_t idProduct;
	uint16_t bcdDevice;
	uint8_t iManufacturer;
	uint8_t iProduct;
	uint8_t iSerialNumber;
	uint8_t bNumConfigurations;
};

struct libusb_endpoint_descriptor {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint8_t bEndpointAddress;
	uint8_t bmAttributes;
	uint16_t wMaxPacketSize;
	uint8_t bInterval;
	uint8_t bRefresh;
	uint8_t bSynchAddress;
	const unsigned char *extra;
	int extra_length;
};

struct libusb_interface_descriptor {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint8_t bInterfaceNumber;
	uint8_t bAlternateSetting;
	uint8_t bNumEndpoints;
	uint8_t bInterfaceClass;
	uint8_t bInterfaceSubClass;
	uint8_t bInterfaceProtocol;
	uint8_t iInterface;
	const struct libusb_endpoint_descriptor *endpoint;
	const unsigned char *extra;
	int extra_length;
};

struct libusb_interface {
	const struct libusb_interface_descriptor *altsetting;
	int num_altsetting;
};

struct libusb_config_descriptor {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t wTotalLength;
	uint8_t bNumInterfaces;
	uint8_t bConfigurationValue;
	uint8_t iConfiguration;
	uint8_t bmAttributes;
	uint8_t MaxPower;
	const struct libusb_interface *interface;
	const unsigned char *extra;
	int extra_length;
};

_Static_assert(sizeof(struct libusb_device_descriptor) == 18, "libusb_device_descriptor layout");

/* exported API (the prototypes double as a check that the definitions below match) */
int LIBUSB_CALL libusb_init(libusb_context **ctx);
void LIBUSB_CALL libusb_exit(libusb_context *ctx);
const struct libusb_version *LIBUSB_CALL libusb_get_version(void);
const char *LIBUSB_CALL libusb_strerror(int errcode);
ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx, libusb_device ***list);
void LIBUSB_CALL libusb_free_device_list(libusb_device **list, int unref_devices);
uint8_t LIBUSB_CALL libusb_get_bus_number(libusb_device *dev);
uint8_t LIBUSB_CALL libusb_get_device_address(libusb_device *dev);
uint8_t LIBUSB_CALL libusb_get_port_number(libusb_device *dev);
int LIBUSB_CALL libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc);
int LIBUSB_CALL libusb_get_config_descriptor(libusb_device *dev, uint8_t config_index,
	struct libusb_config_descriptor **config);
void LIBUSB_CALL libusb_free_config_descriptor(struct libusb_config_descriptor *config);
int LIBUSB_CALL libusb_open(libusb_device *dev, libusb_device_handle **dev_handle);
void LIBUSB_CALL libusb_close(libusb_device_handle *dev_handle);
libusb_device *LIBUSB_CALL libusb_get_device(libusb_device_handle *dev_handle);
int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle *dev_handle, int interface_number);
int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle *dev_handle, int interface_number);
int LIBUSB_CALL libusb_set_auto_detach_kernel_driver(libusb_device_handle *dev_handle, int enable);
int LIBUSB_CALL libusb_claim_interface(libusb_device_handle *dev_handle, int interface_number);
int LIBUSB_CALL libusb_release_interface(libusb_device_handle *dev_handle, int interface_number);
int LIBUSB_CALL libusb_set_interface_alt_setting(libusb_device_handle *dev_handle, int interface_number,
	int alternate_setting);
int LIBUSB_CALL libusb_set_configuration(libusb_device_handle *dev_handle, int configuration);
int LIBUSB_CALL libusb_clear_halt(libusb_device_handle *dev_handle, unsigned char endpoint);
int LIBUSB_CALL libusb_reset_device(libusb_device_handle *dev_handle);
/* errno as libusb's Linux backend leaves it after a transfer: its event handling reaps URBs with
 * a non-blocking ioctl until that fails with EAGAIN. NUT's libhid turns a failed GET_REPORT into
 * -errno and usbhid-ups takes some of those values for a lost device (-3 = LIBUSB_ERROR_ACCESS =
 * -ESRCH); without this a STALL after the driver's privilege drop (which can leave ESRCH behind)
 * made Debian's usbhid-ups give up ("Can't initialize data from HID UPS") where it continues on a
 * real device. */
static int transfer_done(int ret)
{
	errno = EAGAIN;
	return ret;
}

int LIBUSB_CALL libusb_get_string_descriptor_ascii(libusb_device_handle *dev_handle, uint8_t desc_index,
	unsigned char *data, int length);
int LIBUSB_CALL libusb_control_transfer(libusb_device_handle *dev_handle, uint8_t request_type,
	uint8_t bRequest, uint16_t wValue, uint16_t wIndex, unsigned char *data, uint16_t wLength,
	unsigned int timeout);
int LIBUSB_CALL libusb_interrupt_transfer(libusb_device_handle *dev_handle, unsigned char endpoint,
	unsigned char *data, int length, int *actual_length, unsigned int timeout);

/* ---- the simulated device ------------------------------------------------------------------------- */

#define NREPORTS 256
#define MAXINTR 4096
#define MAXQ1 256
#define MAXPKT 256
#define MAXPKTS 1024

struct report { int len; unsigned char b[1024]; };
struct libusb_device { int unused; };
struct libusb_device_handle { unsigned generation; int id; };

static struct libusb_device the_device;
static int spec_loaded;
static unsigned id_vendor = 0xffff, id_product = 0xffff, bcd_device = 0x0100, bus_number = 1, hid_iface;
static unsigned dev_address = 2, port_number = 1, lang_id = 0x0409;
static unsigned str_mfr, str_product, str_serial;
static char *strings[256];
static unsigned char report_desc[65536];
static int report_desc_len;
static struct report feature_rep[NREPORTS], input_rep[NREPORTS];
static struct report intr_queue[MAXINTR];
static int intr_count, intr_next;
static int unknown_as_zero;
static FILE *logfp, *tracefp;
static long events_offset;
static int handles_opened;
static int unplugged;
static unsigned generation = 1;

/* Megatec/Q1 behind a USB bridge */
enum bridge_kind { BR_NONE, BR_CYPRESS, BR_PHOENIX, BR_IPPON, BR_KRAULER, BR_FABULA, BR_HUNNOX, BR_FUJI,
	BR_SGS, BR_SNR, BR_ABLEREX, BR_ARMAC, BR_PHOENIXTEC };
static const char *const bridge_names[] = { "none", "cypress", "phoenix", "ippon", "krauler", "fabula", "hunnox",
	"fuji", "sgs", "snr", "ablerex", "armac", "phoenixtec", NULL };
static enum bridge_kind bridge;
struct q1_entry { char *request; int nreplies, next; char **replies; };
static struct q1_entry q1_table[MAXQ1];
static int q1_count;
static unsigned char cmd_buf[256];		/* command bytes received so far (serial-like bridges) */
static int cmd_len;
static unsigned char pkt[MAXPKTS][MAXPKT];	/* interrupt-IN packets the bridge has queued */
static int pkt_len[MAXPKTS], pkt_head, pkt_tail;
static unsigned char ablerex_reply[64];
static int ablerex_reply_len;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	va_list ap;
	if (!logfp)
		return;
	va_start(ap, fmt);
	vfprintf(logfp, fmt, ap);
	va_end(ap);
}

static void logbytes(const char *what, unsigned a, unsigned b, const unsigned char *d, int n)
{
	if (!logfp)
		return;
	fprintf(logfp, "%s %u %u:", what, a, b);
	for (int i = 0; i < n; i++)
		fprintf(logfp, " %02x", d[i]);
	fputc('\n', logfp);
}

/* FAKEUSB_TRACE: one line per call ("control <handle> <rtype> <req> <value> <index> <len>[: <out bytes>]"),
 * then "= <result>"; "event <line>" for every events-file line applied, in order */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	va_list ap;
	if (!tracefp)
		return;
	va_start(ap, fmt);
	vfprintf(tracefp, fmt, ap);
	va_end(ap);
}

static void trace_bytes(const unsigned char *d, int n)
{
	if (!tracefp)
		return;
	fputc(':', tracefp);
	for (int i = 0; i < n; i++)
		fprintf(tracefp, " %02x", d[i]);
}

/* text for a log line: printable ASCII as is, backslash and everything else escaped */
static void logtext(const unsigned char *s, int n)
{
	for (int i = 0; logfp && i < n; i++) {
		if (s[i] == '\\')
			fputs("\\\\", logfp);
		else if (s[i] == '\r')
			fputs("\\r", logfp);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			fputc(s[i], logfp);
		else
			fprintf(logfp, "\\x%02x", s[i]);
	}
}

static int hex_bytes(const char *s, unsigned char *out, int max)
{
	int n = 0;
	while (n < max) {
		char *end;
		unsigned long v;
		while (*s && !isxdigit((unsigned char)*s))
			s++;
		if (!*s)
			break;
		v = strtoul(s, &end, 16);
		out[n++] = (unsigned char)v;
		s = end;
	}
	return n;
}

/* drop one trailing literal "\r" (the serial fixtures' notation for the CR) */
static void drop_cr_notation(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[n - 2] == '\\' && s[n - 1] == 'r')
		s[n - 2] = '\0';
}

static struct q1_entry *q1_find(const char *request)
{
	for (int i = 0; i < q1_count; i++)
		if (!strcmp(q1_table[i].request, request))
			return &q1_table[i];
	return NULL;
}

/* "q1 <request> -> <reply>": append (spec file) or replace (events file) */
static void q1_line(char *arg, int replace)
{
	char *sep = strstr(arg, " -> "), *req, *rep;
	struct q1_entry *e;

	if (!sep) {
		fprintf(stderr, "fakeusb: q1 line without ' -> ': %s\n", arg);
		return;
	}
	*sep = '\0';
	req = arg;
	rep = sep + 4;
	drop_cr_notation(req);
	drop_cr_notation(rep);
	e = q1_find(req);
	if (!e) {
		if (q1_count >= MAXQ1)
			return;
		e = &q1_table[q1_count++];
		e->request = strdup(req);
	}
	if (replace) {
		for (int i = 0; i < e->nreplies; i++)
			free(e->replies[i]);
		e->nreplies = 0;
		e->next = 0;
	}
	e->replies = realloc(e->replies, sizeof(char *) * (size_t)(e->nreplies + 1));
	e->replies[e->nreplies++] = strdup(rep);
}

static void apply_line(char *line, int from_events)
{
	char word[32], *arg, *end;
	int skip = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || sscanf(line, "%31s %n", word, &skip) < 1)
		return;
	arg = line + skip;

	if (!strcmp(word, "vid"))
		id_vendor = strtoul(arg, NULL, 16);
	else if (!strcmp(word, "pid"))
		id_product = strtoul(arg, NULL, 16);
	else if (!strcmp(word, "bcd"))
		bcd_device = strtoul(arg, NULL, 16);
	else if (!strcmp(word, "bus"))
		bus_number = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "iface"))
		hid_iface = strtoul(arg, NULL, 10) & 0x0f;
	else if (!strcmp(word, "devnum"))
		dev_address = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "port"))
		port_number = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "langid"))
		lang_id = strtoul(arg, NULL, 16);
	else if (!strcmp(word, "imanufacturer"))
		str_mfr = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "iproduct"))
		str_product = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "iserial"))
		str_serial = strtoul(arg, NULL, 10);
	else if (!strcmp(word, "unknown"))
		unknown_as_zero = !strncmp(arg, "zero", 4);
	else if (!strcmp(word, "string")) {
		unsigned idx = strtoul(arg, &end, 10);
		if (idx > 0 && idx < 256) {
			while (*end == ' ' || *end == '\t')
				end++;
			free(strings[idx]);
			strings[idx] = strdup(end);
		}
	} else if (!strcmp(word, "desc")) {
		report_desc_len += hex_bytes(arg, report_desc + report_desc_len,
			(int)sizeof(report_desc) - report_desc_len);
	} else if (!strcmp(word, "feature") || !strcmp(word, "input")) {
		unsigned id = strtoul(arg, &end, 16) % NREPORTS;
		struct report *r = (word[0] == 'f' ? feature_rep : input_rep) + id;
		r->len = hex_bytes(end, r->b, (int)sizeof(r->b));
	} else if (!strcmp(word, "intr")) {
		if (intr_count < MAXINTR) {
			struct report *r = &intr_queue[intr_count++];
			r->len = hex_bytes(arg, r->b, (int)sizeof(r->b));
		}
	} else if (!strcmp(word, "bridge")) {
		int i;
		arg[strcspn(arg, " \t")] = '\0';
		for (i = 0; bridge_names[i] && strcmp(bridge_names[i], arg); i++)
			;
		if (bridge_names[i])
			bridge = (enum bridge_kind)i;
		else
			fprintf(stderr, "fakeusb: unknown bridge '%s'\n", arg);
	} else if (!strcmp(word, "q1")) {
		q1_line(arg, from_events);
	} else if (!strcmp(word, "unplug")) {
		unplugged = 1;
		generation++;
	} else if (!strcmp(word, "replug")) {
		if (*arg)
			dev_address = strtoul(arg, NULL, 10);
		unplugged = 0;
		generation++;
	} else {
		fprintf(stderr, "fakeusb: unknown directive '%s'\n", word);
	}
}

static void load_spec(void)
{
	const char *spec = getenv("FAKEUSB_SPEC"), *logpath = getenv("FAKEUSB_LOG"), *tracepath = getenv("FAKEUSB_TRACE");
	char line[8192];
	FILE *f;

	if (spec_loaded)
		return;
	spec_loaded = 1;
	if (logpath && (logfp = fopen(logpath, "a")) != NULL)
		setvbuf(logfp, NULL, _IOLBF, 0);
	if (tracepath && (tracefp = fopen(tracepath, "a")) != NULL)
		setvbuf(tracefp, NULL, _IOLBF, 0);
	if (!spec || !(f = fopen(spec, "r"))) {
		fprintf(stderr, "fakeusb: FAKEUSB_SPEC is not set or not readable\n");
		return;
	}
	while (fgets(line, sizeof(line), f))
		apply_line(line, 0);
	fclose(f);
	logline("loaded %s: %04x:%04x, report descriptor %d bytes, %d queued interrupt reports\n",
		spec, id_vendor, id_product, report_desc_len, intr_count);
	if (bridge != BR_NONE)
		logline("bridge %s: %d q1 requests\n", bridge_names[bridge], q1_count);
}

/* apply complete lines appended to FAKEUSB_EVENTS since the last call */
static void poll_events(void)
{
	const char *path = getenv("FAKEUSB_EVENTS");
	char line[8192];
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return;
	if (fseek(f, events_offset, SEEK_SET) == 0) {
		while (fgets(line, sizeof(line), f) && strchr(line, '\n')) {
			logline("event: %s", line);
			trace("event %s", line);
			apply_line(line, 1);
			events_offset = ftell(f);
		}
	}
	fclose(f);
}

/* a transfer on a handle of a device that has gone (unplugged, or re-enumerated since it was opened) */
static int gone(libusb_device_handle *h, const char *what)
{
	if (!unplugged && h && h->generation == generation)
		return 0;
	logline("%s -> NO_DEVICE\n", what);
	return 1;
}

/* decode one UTF-8 sequence; returns the code point (0xfffd for invalid input) and advances *s */
static unsigned next_codepoint(const unsigned char **s)
{
	const unsigned char *p = *s;
	unsigned c = *p++, n = 0;
	if (c >= 0xf0) { c &= 0x07; n = 3; }
	else if (c >= 0xe0) { c &= 0x0f; n = 2; }
	else if (c >= 0xc0) { c &= 0x1f; n = 1; }
	else if (c >= 0x80) c = 0xfffd;
	while (n-- > 0) {
		if ((*p & 0xc0) != 0x80) { c = 0xfffd; break; }
		c = (c << 6) | (*p++ & 0x3f);
	}
	*s = p;
	return c > 0xffff ? 0xfffd : c;
}

/* ---- Q1 bridges ------------------------------------------------------------------------------------- */

static int is_string_bridge(void)
{
	return bridge == BR_KRAULER || bridge == BR_FABULA || bridge == BR_HUNNOX || bridge == BR_SNR;
}

/* the Megatec command a string-index bridge maps descriptor index idx to, or NULL */
static const char *string_command(unsigned idx, char *tmp, size_t tmplen)
{
	switch (bridge) {
	case BR_KRAULER:
		switch (idx) {
		case 0x03: return "Q1";
		case 0x0d: return "F";
		case 0x0c: return "I";
		case 0x04: return "T";
		case 0x05: return "TL";
		case 0x07: return "Q";
		case 0x0b: return "C";
		default: return NULL;
		}
	case BR_FABULA:
	case BR_HUNNOX:
		switch (idx) {
		case 0x03: return "Q1";
		case 0x0d: return "F";
		case 0x0c: return "I";
		case 0x07: return "Q";
		case 0x0a: return "C";
		default:
			/* shutdowns: high nibble 1..5 = .5...9 min, 6..15 = 1..10 min; bit 3 = return */
			if (idx >= 0x10 && (idx & 0x07) == 0) {
				unsigned n = idx >> 4;
				if (n <= 5)
					snprintf(tmp, tmplen, "S.%u%s", n + 4, (idx & 8) ? "" : "R0000");
				else
					snprintf(tmp, tmplen, "S%02u%s", n - 5, (idx & 8) ? "" : "R0000");
				return tmp;
			}
			return NULL;
		}
	case BR_SNR:
		switch (idx) {
		case 0x03: return "Q1";
		case 0x0d: return "F";
		case 0x0c: return "I";
		default: return NULL;
		}
	default:
		return NULL;
	}
}

/* The UPS answers request `cmd`: the next recorded reply (cycling), else the bridge's default
 * (serial-like bridges echo the command as Megatec units do, the string bridges say "UPS No Ack",
 * armac stays silent). Returns the reply length, -1 for no reply. Logs one "q1" line. */
static int q1_answer(const char *cmd, char *out, size_t outlen)
{
	struct q1_entry *e = q1_find(cmd);
	const char *reply;

	if (e && e->nreplies > 0) {
		reply = e->replies[e->next % e->nreplies];
		e->next = (e->next + 1) % e->nreplies;
		if (!strcmp(reply, "<none>"))
			reply = NULL;
	} else if (is_string_bridge()) {
		reply = "UPS No Ack";
	} else if (bridge == BR_ARMAC) {
		reply = NULL;
	} else {
		reply = cmd;
	}
	logline("q1 %s: ", bridge_names[bridge]);
	logtext((const unsigned char *)cmd, (int)strlen(cmd));
	logline(" -> ");
	if (!reply) {
		logline("(none)\n");
		return -1;
	}
	logtext((const unsigned char *)reply, (int)strlen(reply));
	logline("\n");
	snprintf(out, outlen, "%s", reply);
	return (int)strlen(out);
}

static void queue_packet(const unsigned char *d, int n)
{
	if (pkt_tail >= MAXPKTS)
		return;
	memset(pkt[pkt_tail], 0, MAXPKT);
	memcpy(pkt[pkt_tail], d, (size_t)n);
	pkt_len[pkt_tail++] = n;
}

/* Masterguard (phoenixtec) commands the UPS acts on without answering: the command starts with one of
 * these and does not go on with another capital letter ("M" but not "MSO") */
static int phoenixtec_silent(const char *cmd)
{
	static const char *const silent[] = { "T", "TL", "S", "C", "CT", "M", "N", "O", "SRC", "FCLR", "SS", "TUD",
		"SSN", NULL };
	for (int i = 0; silent[i]; i++) {
		size_t n = strlen(silent[i]);
		if (!strncmp(cmd, silent[i], n) && !(cmd[n] >= 'A' && cmd[n] <= 'Z'))
			return 1;
	}
	return 0;
}

/* a complete command arrived over a serial-like bridge: queue the reply as that bridge frames it */
static void bridge_command(const char *cmd)
{
	char reply[256];
	unsigned char b[MAXPKT];
	int n, off;

	if (bridge == BR_PHOENIXTEC && phoenixtec_silent(cmd)) {
		logline("q1 phoenixtec: ");
		logtext((const unsigned char *)cmd, (int)strlen(cmd));
		logline(" -> (none)\n");
		return;
	}
	n = q1_answer(cmd, reply, sizeof(reply) - 1);
	if (n < 0)
		return;
	reply[n++] = '\r';
	switch (bridge) {
	case BR_IPPON:		/* one 64-byte report: reply, CR, zero padding */
		memset(b, 0, sizeof(b));
		memcpy(b, reply, (size_t)(n < 64 ? n : 64));
		queue_packet(b, 64);
		break;
	case BR_SGS:		/* 8-byte reports: count (<= 7), data */
		for (off = 0; off < n; off += 7) {
			int k = n - off < 7 ? n - off : 7;
			memset(b, 0, 8);
			b[0] = (unsigned char)k;
			memcpy(b + 1, reply + off, (size_t)k);
			queue_packet(b, 8);
		}
		break;
	case BR_ARMAC:		/* 6-byte reports: 0xa0 | count (<= 5), data; then an empty one */
		for (off = 0; off < n; off += 5) {
			int k = n - off < 5 ? n - off : 5;
			memset(b, 0, 6);
			b[0] = (unsigned char)(0xa0 | k);
			memcpy(b + 1, reply + off, (size_t)k);
			queue_packet(b, 6);
		}
		memset(b, 0, 6);
		b[0] = 0xa0;
		queue_packet(b, 6);
		break;
	case BR_PHOENIXTEC:	/* the whole reply in one transfer */
		queue_packet((const unsigned char *)reply, n < MAXPKT ? n : MAXPKT);
		break;
	case BR_ABLEREX:	/* kept in feature report 5 until the next command */
		memcpy(ablerex_reply, reply, (size_t)(n < 64 ? n : 64));
		ablerex_reply_len = n < 64 ? n : 64;
		break;
	default:		/* cypress, phoenix, fuji: 8-byte reports, the last one zero-padded */
		for (off = 0; off < n; off += 8) {
			int k = n - off < 8 ? n - off : 8;
			memset(b, 0, 8);
			memcpy(b, reply + off, (size_t)k);
			queue_packet(b, 8);
		}
		break;
	}
}

/* bytes of a command for a serial-like bridge; NULs are padding, a CR completes the command */
static void bridge_bytes(const unsigned char *d, int n)
{
	for (int i = 0; i < n; i++) {
		if (d[i] == 0)
			continue;
		if (d[i] == '\r') {
			cmd_buf[cmd_len] = '\0';
			cmd_len = 0;
			bridge_command((const char *)cmd_buf);
		} else if (cmd_len < (int)sizeof(cmd_buf) - 1) {
			cmd_buf[cmd_len++] = d[i];
		}
	}
}

/* class SET_REPORT to the interface on a bridge: the command path of cypress, phoenix, ippon, sgs, armac
 * and ablerex. Returns 1 when handled. */
static int bridge_set_report(uint16_t value, const unsigned char *data, uint16_t len)
{
	switch (bridge) {
	case BR_CYPRESS:
	case BR_PHOENIX:
	case BR_IPPON:
		/* the chunk ends at its first NUL (NUT's ippon leaves stack bytes after the string) */
		logbytes("set_report", value >> 8, value & 0xff, data, len);
		bridge_bytes(data, (int)strnlen((const char *)data, len));
		return 1;
	case BR_SGS: {
		int k = len ? (data[0] <= 7 ? data[0] : 7) : 0;
		logbytes("set_report", value >> 8, value & 0xff, data, len);
		if (k > len - 1)
			k = len - 1;
		bridge_bytes(data + 1, k);
		return 1;
	}
	case BR_ARMAC: {
		int k = len ? (data[0] & 0x0f) : 0;
		logbytes("set_report", value >> 8, value & 0xff, data, len);
		if (k > 3)
			k = 3;
		if (k > len - 1)
			k = len - 1;
		bridge_bytes(data + 1, k);
		return 1;
	}
	case BR_ABLEREX: {
		/* 05 00 <n> <n command bytes incl. CR>; the rest of the report is not initialised by NUT */
		int k = len >= 3 ? data[2] : 0, shown;
		if (k > len - 3)
			k = len - 3 > 0 ? len - 3 : 0;
		shown = len >= 3 ? 3 + k : len;
		logbytes("set_report", value >> 8, value & 0xff, data, shown);
		if (len >= 3 && data[0] == 0x05) {
			cmd_len = 0;
			bridge_bytes(data + 3, k);
		}
		return 1;
	}
	default:
		return 0;
	}
}

/* ---- descriptors -------------------------------------------------------------------------------------- */

/* USB string descriptor (UTF-16LE) for index idx; returns its length or LIBUSB_ERROR_PIPE */
static int make_string_desc(unsigned idx, unsigned char *buf)
{
	int n = 2;
	const char *text;
	char cmdtmp[32], reply[256];
	if (idx == 0) {
		buf[0] = 4; buf[1] = LIBUSB_DT_STRING;		/* one LANGID */
		buf[2] = (unsigned char)(lang_id & 0xff); buf[3] = (unsigned char)(lang_id >> 8);
		return 4;
	}
	if (idx > 255)
		return LIBUSB_ERROR_PIPE;
	text = strings[idx];
	if (is_string_bridge()) {
		const char *cmd = string_command(idx, cmdtmp, sizeof(cmdtmp));
		if (cmd) {
			int n = q1_answer(cmd, reply, sizeof(reply) - 1);
			if (n < 0)
				return LIBUSB_ERROR_PIPE;
			/* NUT's hunnox and snr subdrivers add no CR: their devices end the string with it */
			if (bridge == BR_HUNNOX || bridge == BR_SNR) {
				reply[n++] = '\r';
				reply[n] = '\0';
			}
			text = reply;
		}
	}
	if (!text)
		return LIBUSB_ERROR_PIPE;
	for (const unsigned char *s = (const unsigned char *)text; *s && n < 254;) {
		unsigned c = next_codepoint(&s);
		buf[n++] = (unsigned char)(c & 0xff);
		buf[n++] = (unsigned char)(c >> 8);
	}
	buf[0] = (unsigned char)n;
	buf[1] = LIBUSB_DT_STRING;
	return n;
}

static void make_hid_desc(unsigned char *p)
{
	/* HID class descriptor: length 9, type 0x21, bcdHID 1.10, country 0, one report descriptor */
	p[0] = 9; p[1] = LIBUSB_DT_HID; p[2] = 0x10; p[3] = 0x01; p[4] = 0; p[5] = 1;
	p[6] = LIBUSB_DT_REPORT; p[7] = (unsigned char)(report_desc_len & 0xff);
	p[8] = (unsigned char)(report_desc_len >> 8);
}

static void fill_device_desc(struct libusb_device_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	d->bLength = 18;
	d->bDescriptorType = LIBUSB_DT_DEVICE;
	d->bcdUSB = 0x0110;
	d->bMaxPacketSize0 = 8;
	d->idVendor = (uint16_t)id_vendor;
	d->idProduct = (uint16_t)id_product;
	d->bcdDevice = (uint16_t)bcd_device;
	d->iManufacturer = (uint8_t)str_mfr;
	d->iProduct = (uint8_t)str_product;
	d->iSerialNumber = (uint8_t)str_serial;
	d->bNumConfigurations = 1;
}

/* ---- libusb API ----------------------------------------------------------------------------------- */

int LIBUSB_CALL libusb_init(libusb_context **ctx)
{
	load_spec();
	if (ctx)
		*ctx = (libusb_context *)&the_device;
	return LIBUSB_SUCCESS;
}

void LIBUSB_CALL libusb_exit(libusb_context *ctx) { (void)ctx; }

const struct libusb_version *LIBUSB_CALL libusb_get_version(void)
{
	static const struct libusb_version v = { 1, 0, 26, 0, "", "fakeusb" };
	return &v;
}

const char *LIBUSB_CALL libusb_strerror(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS: return "Success";
	case LIBUSB_ERROR_IO: return "Input/Output Error";
	case LIBUSB_ERROR_INVALID_PARAM: return "Invalid parameter";
	case LIBUSB_ERROR_ACCESS: return "Access denied (insufficient permissions)";
	case LIBUSB_ERROR_NO_DEVICE: return "No such device (it may have been disconnected)";
	case LIBUSB_ERROR_NOT_FOUND: return "Entity not found";
	case LIBUSB_ERROR_BUSY: return "Resource busy";
	case LIBUSB_ERROR_TIMEOUT: return "Operation timed out";
	case LIBUSB_ERROR_OVERFLOW: return "Overflow";
	case LIBUSB_ERROR_PIPE: return "Pipe error";
	case LIBUSB_ERROR_INTERRUPTED: return "System call interrupted (perhaps due to signal)";
	case LIBUSB_ERROR_NO_MEM: return "Insufficient memory";
	case LIBUSB_ERROR_NOT_SUPPORTED: return "Operation not supported or unimplemented on this platform";
	default: return "Other error";
	}
}

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	(void)ctx;
	load_spec();
	poll_events();
	trace("list\n");
	*list = calloc(2, sizeof(libusb_device *));
	if (!*list)
		return LIBUSB_ERROR_NO_MEM;
	if ((report_desc_len == 0 && bridge == BR_NONE) || unplugged)
		return 0;
	(*list)[0] = &the_device;
	return 1;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device **list, int unref) { (void)unref; free(list); }
uint8_t LIBUSB_CALL libusb_get_bus_number(libusb_device *dev) { (void)dev; return (uint8_t)bus_number; }
uint8_t LIBUSB_CALL libusb_get_device_address(libusb_device *dev) { (void)dev; return (uint8_t)dev_address; }
uint8_t LIBUSB_CALL libusb_get_port_number(libusb_device *dev) { (void)dev; return (uint8_t)port_number; }

int LIBUSB_CALL libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *d)
{
	(void)dev;
	load_spec();
	fill_device_desc(d);
	return LIBUSB_SUCCESS;
}

int LIBUSB_CALL libusb_get_config_descriptor(libusb_device *dev, uint8_t index, struct libusb_config_descriptor **out)
{
	unsigned nif = hid_iface + 1;
	struct libusb_config_descriptor *c = calloc(1, sizeof(*c));
	struct libusb_interface *ifs = calloc(nif, sizeof(*ifs));
	struct libusb_interface_descriptor *alts = calloc(nif, sizeof(*alts));
	struct libusb_endpoint_descriptor *ep = calloc(1, sizeof(*ep));
	unsigned char *hid = calloc(1, 9);

	(void)dev;
	if (!c || !ifs || !alts || !ep || !hid || index != 0) {
		free(c); free(ifs); free(alts); free(ep); free(hid);
		return index != 0 ? LIBUSB_ERROR_NOT_FOUND : LIBUSB_ERROR_NO_MEM;
	}
	make_hid_desc(hid);
	ep->bLength = 7;
	ep->bDescriptorType = LIBUSB_DT_ENDPOINT;
	ep->bEndpointAddress = 0x81;
	ep->bmAttributes = LIBUSB_TRANSFER_TYPE_INTERRUPT;
	ep->wMaxPacketSize = 8;
	ep->bInterval = 10;
	for (unsigned i = 0; i < nif; i++) {
		alts[i].bLength = 9;
		alts[i].bDescriptorType = LIBUSB_DT_INTERFACE;
		alts[i].bInterfaceNumber = (uint8_t)i;
		alts[i].bNumEndpoints = 1;
		alts[i].bInterfaceClass = LIBUSB_CLASS_HID;
		alts[i].endpoint = ep;
		alts[i].extra = hid;
		alts[i].extra_length = 9;
		ifs[i].altsetting = &alts[i];
		ifs[i].num_altsetting = 1;
	}
	c->bLength = 9;
	c->bDescriptorType = LIBUSB_DT_CONFIG;
	c->wTotalLength = (uint16_t)(9 + nif * (9 + 9 + 7));
	c->bNumInterfaces = (uint8_t)nif;
	c->bConfigurationValue = 1;
	c->bmAttributes = 0xa0;
	c->MaxPower = 50;
	c->interface = ifs;
	*out = c;
	return LIBUSB_SUCCESS;
}

void LIBUSB_CALL libusb_free_config_descriptor(struct libusb_config_descriptor *c)
{
	if (!c)
		return;
	free((void *)c->interface[0].altsetting[0].endpoint);
	free((void *)c->interface[0].altsetting[0].extra);
	free((void *)c->interface[0].altsetting);
	free((void *)c->interface);
	free(c);
}

int LIBUSB_CALL libusb_open(libusb_device *dev, libusb_device_handle **h)
{
	(void)dev;
	load_spec();
	if (unplugged) {
		trace("open -\n");
		return LIBUSB_ERROR_NO_DEVICE;
	}
	*h = calloc(1, sizeof(**h));
	if (!*h)
		return LIBUSB_ERROR_NO_MEM;
	(*h)->generation = generation;
	(*h)->id = ++handles_opened;
	trace("open %d\n", (*h)->id);
	return 0;
}

void LIBUSB_CALL libusb_close(libusb_device_handle *h)
{
	if (h)
		trace("close %d\n", h->id);
	free(h);
}
libusb_device *LIBUSB_CALL libusb_get_device(libusb_device_handle *h) { (void)h; return &the_device; }
int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle *h, int i) { (void)h; (void)i; return 0; }
int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle *h, int i) { (void)h; (void)i; return 0; }
int LIBUSB_CALL libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int on) { (void)h; (void)on; return 0; }
int LIBUSB_CALL libusb_claim_interface(libusb_device_handle *h, int i) { (void)h; (void)i; return 0; }
int LIBUSB_CALL libusb_release_interface(libusb_device_handle *h, int i) { (void)h; (void)i; return 0; }
int LIBUSB_CALL libusb_set_interface_alt_setting(libusb_device_handle *h, int i, int a) { (void)h; (void)i; (void)a; return 0; }
int LIBUSB_CALL libusb_set_configuration(libusb_device_handle *h, int c) { (void)h; (void)c; return 0; }
int LIBUSB_CALL libusb_clear_halt(libusb_device_handle *h, unsigned char ep) { (void)h; (void)ep; return 0; }
int LIBUSB_CALL libusb_reset_device(libusb_device_handle *h) { (void)h; return 0; }

static int string_ascii(libusb_device_handle *h, uint8_t idx, unsigned char *data, int len)
{
	unsigned char desc[256];
	int n = 0, dlen;
	if (gone(h, "string"))
		return LIBUSB_ERROR_NO_DEVICE;
	dlen = idx == 0 || len < 1 ? LIBUSB_ERROR_PIPE : make_string_desc(idx, desc);
	if (dlen < 0) {
		logline("string %u -> STALL\n", idx);
		return LIBUSB_ERROR_PIPE;
	}
	for (int si = 2; si + 1 < dlen && n < len - 1; si += 2)
		data[n++] = desc[si + 1] || desc[si] >= 0x80 ? '?' : desc[si];
	data[n] = '\0';
	logline("string %u: ", idx);
	logtext(data, n);
	logline("\n");
	return n;
}

int LIBUSB_CALL libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t idx, unsigned char *data, int len)
{
	int ret;
	load_spec();
	poll_events();
	trace("ascii %d %u %d\n", h ? h->id : 0, idx, len);
	ret = string_ascii(h, idx, data, len);
	trace("= %d\n", ret);
	return transfer_done(ret);
}

static int control_transfer(libusb_device_handle *h, uint8_t rtype, uint8_t req, uint16_t value,
	uint16_t index, unsigned char *data, uint16_t len)
{
	if (gone(h, "control"))
		return LIBUSB_ERROR_NO_DEVICE;

	if (req == LIBUSB_REQUEST_GET_DESCRIPTOR && (rtype & 0xe0) == 0x80) {	/* standard, device-to-host */
		unsigned type = value >> 8, di = value & 0xff;
		unsigned char buf[256];
		const unsigned char *src = buf;
		int n;
		switch (type) {
		case LIBUSB_DT_DEVICE: {
			struct libusb_device_descriptor d;
			fill_device_desc(&d);
			buf[0] = d.bLength; buf[1] = d.bDescriptorType; buf[2] = 0x10; buf[3] = 0x01;
			buf[4] = buf[5] = buf[6] = 0; buf[7] = d.bMaxPacketSize0;
			buf[8] = id_vendor & 0xff; buf[9] = (id_vendor >> 8) & 0xff;
			buf[10] = id_product & 0xff; buf[11] = (id_product >> 8) & 0xff;
			buf[12] = bcd_device & 0xff; buf[13] = (bcd_device >> 8) & 0xff;
			buf[14] = d.iManufacturer; buf[15] = d.iProduct; buf[16] = d.iSerialNumber; buf[17] = 1;
			n = 18;
			break;
		}
		case LIBUSB_DT_HID: make_hid_desc(buf); n = 9; break;
		case LIBUSB_DT_REPORT: src = report_desc; n = report_desc_len; break;
		case LIBUSB_DT_STRING: n = make_string_desc(di, buf); break;
		default: n = LIBUSB_ERROR_PIPE; break;
		}
		if (n > len)
			n = len;
		if (n > 0)
			memcpy(data, src, (size_t)n);
		logline("get_descriptor type 0x%02x index %u len %u -> %d\n", type, di, len, n);
		return n;
	}

	if (bridge == BR_PHOENIXTEC && rtype == 0x42 && req == 0x0d) {	/* vendor OUT: the command */
		logbytes("vendor_out", value, index, data, len);
		cmd_len = 0;
		bridge_bytes(data, len);
		return len;
	}

	if ((rtype & 0x60) == LIBUSB_REQUEST_TYPE_CLASS) {
		unsigned kind = value >> 8, id = (value & 0xff) % NREPORTS;
		struct report *mine = kind == 1 ? &input_rep[id] : &feature_rep[id];
		struct report *other = kind == 1 ? &feature_rep[id] : &input_rep[id];

		if (req == 0x09 && !(rtype & 0x80) && bridge_set_report(value, data, len))
			return len;
		if (req == 0x01 && (rtype & 0x80) && bridge == BR_ABLEREX && value == 0x0305) {
			int n = len;
			memset(data, 0, len);
			memcpy(data, ablerex_reply, (size_t)(ablerex_reply_len < n ? ablerex_reply_len : n));
			logbytes("get_report", kind, id, data, n);
			return n;
		}
		if (req == 0x01 && (rtype & 0x80)) {		/* HID GET_REPORT */
			struct report *r = mine->len ? mine : other;
			int n;
			if (!r->len) {
				if (!unknown_as_zero) {
					logbytes("get_report STALL", kind, id, NULL, 0);
					return LIBUSB_ERROR_PIPE;
				}
				memset(data, 0, len);
				if (len)
					data[0] = (unsigned char)id;
				logbytes("get_report zero", kind, id, data, len);
				return len;
			}
			n = r->len < len ? r->len : len;
			memcpy(data, r->b, (size_t)n);
			logbytes("get_report", kind, id, data, n);
			return n;
		}
		if (req == 0x09 && !(rtype & 0x80)) {		/* HID SET_REPORT: store, so a read-back sees it */
			mine->len = len < (int)sizeof(mine->b) ? len : (int)sizeof(mine->b);
			memcpy(mine->b, data, (size_t)mine->len);
			logbytes("set_report", kind, id, data, len);
			return len;
		}
		if (req == 0x0a && !(rtype & 0x80)) {		/* HID SET_IDLE */
			logline("set_idle 0x%04x\n", value);
			return 0;
		}
	}
	logline("control rtype=%02x req=%02x value=%04x index=%04x len=%u -> STALL\n", rtype, req, value, index, len);
	return LIBUSB_ERROR_PIPE;
}

int LIBUSB_CALL libusb_control_transfer(libusb_device_handle *h, uint8_t rtype, uint8_t req, uint16_t value,
	uint16_t index, unsigned char *data, uint16_t len, unsigned int timeout)
{
	int ret;
	load_spec();
	poll_events();
	trace("control %d %02x %02x %04x %04x %u", h ? h->id : 0, rtype, req, value, index, len);
	if (!(rtype & 0x80))
		trace_bytes(data, len);
	trace(" (timeout %u)\n", timeout);
	ret = control_transfer(h, rtype, req, value, index, data, len);
	trace("= %d\n", ret);
	return transfer_done(ret);
}

static int interrupt_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int len,
	int *actual, unsigned int timeout)
{
	if (gone(h, "interrupt")) {
		if (actual)
			*actual = 0;
		return LIBUSB_ERROR_NO_DEVICE;
	}
	if (!(ep & 0x80)) {					/* interrupt OUT */
		logbytes("interrupt_out", ep, (unsigned)len, data, len);
		if (bridge == BR_FUJI && len >= 8 && data[0] == 0x80 && data[1] == 0x06 && data[3] == 0x03) {
			/* 80 06 <n+1> 03 <n command bytes> <padding> <expected reply length, 0 = none> */
			char cmd[8] = "";
			int n = data[2] > 0 ? data[2] - 1 : 0;
			if (n > 3)
				n = 3;
			memcpy(cmd, data + 4, (size_t)n);
			cmd[n] = '\0';
			if (data[7])
				bridge_command(cmd);
			else {
				logline("q1 fuji: ");
				logtext((const unsigned char *)cmd, n);
				logline(" -> (none)\n");
			}
		}
		if (actual)
			*actual = len;
		return LIBUSB_SUCCESS;
	}
	if (pkt_head < pkt_tail) {
		int n = pkt_len[pkt_head] < len ? pkt_len[pkt_head] : len;
		memcpy(data, pkt[pkt_head++], (size_t)n);
		if (pkt_head == pkt_tail)
			pkt_head = pkt_tail = 0;
		if (actual)
			*actual = n;
		logbytes("interrupt", ep, (unsigned)n, data, n);
		return LIBUSB_SUCCESS;
	}
	if (intr_next < intr_count) {
		struct report *r = &intr_queue[intr_next++];
		int n = r->len < len ? r->len : len;
		memcpy(data, r->b, (size_t)n);
		if (actual)
			*actual = n;
		logbytes("interrupt", ep, (unsigned)n, data, n);
		return LIBUSB_SUCCESS;
	}
	if (actual)
		*actual = 0;
	/* a quiet device: time out, but cap the wait so the driver's main loop keeps its pace */
	if (timeout == 0 || timeout > 100)
		timeout = 100;
	usleep(timeout * 1000);
	return LIBUSB_ERROR_TIMEOUT;
}

int LIBUSB_CALL libusb_interrupt_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int len,
	int *actual, unsigned int timeout)
{
	int ret, got = 0;
	load_spec();
	poll_events();
	trace("interrupt %d %u %d", h ? h->id : 0, ep, len);
	if (!(ep & 0x80))
		trace_bytes(data, len);
	trace(" (timeout %u)\n", timeout);
	ret = interrupt_transfer(h, ep, data, len, &got, timeout);
	if (actual)
		*actual = got;
	trace("= %d %d\n", ret, got);
	return transfer_done(ret);
}
