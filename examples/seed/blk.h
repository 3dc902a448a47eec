/* The block layer's request, shaped like the kernel's struct request of the
 * incident: 0x148 bytes, with the SCSI command allocated right behind it. */
#ifndef SEED_BLK_H
#define SEED_BLK_H

#include <stdint.h>

struct list_head {
    struct list_head *next, *prev;
};

struct request;
typedef void(rq_end_io_fn)(struct request *rq, int error);

struct request {
    struct list_head queuelist;      /* 0x000 */
    void *q;                         /* 0x010 */
    void *mq_ctx;                    /* 0x018 */
    int cpu;                         /* 0x020 */
    unsigned int cmd_flags;          /* 0x024 */
    uint64_t rq_flags;               /* 0x028 */
    int internal_tag, tag;           /* 0x030 */
    unsigned int data_len;           /* 0x038 */
    unsigned int extra_len;          /* 0x03c */
    uint64_t sector;                 /* 0x040 */
    void *bio, *biotail;             /* 0x048 */
    struct list_head hash;           /* 0x058 */
    void *elv_priv[2];               /* 0x068 */
    void *rq_disk;                   /* 0x078 */
    uint64_t start_time_ns;          /* 0x080 */
    uint64_t io_start_time_ns;       /* 0x088 */
    unsigned short nr_phys_segments; /* 0x090 */
    unsigned short ioprio;           /* 0x092 */
    unsigned int timeout;            /* 0x094 */
    void *special;                   /* 0x098 */
    unsigned int resid_len;          /* 0x0a0 */
    unsigned int sense_len;          /* 0x0a4 */
    void *sense;                     /* 0x0a8 */
    uint64_t deadline;               /* 0x0b0 */
    struct list_head timeout_list;   /* 0x0b8 */
    rq_end_io_fn *end_io;            /* 0x0c8 */
    void *end_io_data;               /* 0x0d0 */
    struct request *next_rq;         /* 0x0d8 */
    uint8_t pad[0x148 - 0xe0];       /* 0x0e0: the rest of the kernel's fields */
};
_Static_assert(sizeof(struct request) == 0x148, "struct request is 0x148 bytes");

/* The allocation: request, command, sense buffer: one 1 KiB object. */
#define REQUEST_ALLOC_SIZE 1024

struct request *alloc_request(void);
void put_request(struct request *rq);

#endif
