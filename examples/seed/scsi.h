/* The SCSI command that lives behind each request (the kernel's
 * struct scsi_cmnd of the incident: 0x1a0 bytes, SCp at 0x148). */
#ifndef SEED_SCSI_H
#define SEED_SCSI_H

#include "blk.h"

struct scsi_pointer {
    char *ptr;                 /* 0x00 */
    int this_residual;         /* 0x08 */
    void *buffer;              /* 0x10 */
    int buffers_residual;      /* 0x18 */
    uint64_t dma_handle;       /* 0x20 */
    volatile int Status;       /* 0x28 */
    volatile int Message;      /* 0x2c */
    volatile int have_data_in; /* 0x30 */
    volatile int sent_command; /* 0x34 */
    volatile int phase;        /* 0x38: drivers keep their ownership state here */
};
_Static_assert(sizeof(struct scsi_pointer) == 0x40, "struct scsi_pointer is 0x40 bytes");

struct delayed_work {
    struct list_head entry;   /* 0x00 */
    void (*func)(void *);     /* 0x10 */
    uint64_t expires;         /* 0x18 */
    void (*timer_fn)(void *); /* 0x20 */
    void *data;               /* 0x28 */
};

struct scsi_cmnd {
    void *device;                          /* 0x000 */
    struct list_head list;                 /* 0x008 */
    struct list_head eh_entry;             /* 0x018 */
    struct delayed_work abort_work;        /* 0x028 */
    uint64_t jiffies_at_alloc;             /* 0x058 */
    int retries, allowed;                  /* 0x060 */
    unsigned char prot_op, prot_type;      /* 0x068 */
    unsigned short cmd_len;                /* 0x06a */
    int sc_data_direction;                 /* 0x06c */
    unsigned char *cmnd;                   /* 0x070 */
    uint8_t sdb[0x108 - 0x78];             /* 0x078: data buffer descriptors */
    unsigned int underflow;                /* 0x108 */
    unsigned int transfersize;             /* 0x10c */
    struct request *request;               /* 0x110 */
    unsigned char *sense_buffer;           /* 0x118 */
    void (*scsi_done)(struct scsi_cmnd *); /* 0x120 */
    uint8_t reserved[0x148 - 0x128];       /* 0x128 */
    struct scsi_pointer SCp;               /* 0x148: phase at 0x180 */
    unsigned char *host_scribble;          /* 0x188 */
    int result;                            /* 0x190 */
    int flags;                             /* 0x194 */
    unsigned char tag;                     /* 0x198 */
};
_Static_assert(sizeof(struct scsi_cmnd) == 0x1a0, "struct scsi_cmnd is 0x1a0 bytes");

/* The command that belongs to a request sits right behind it. */
static inline struct scsi_cmnd *blk_mq_rq_to_pdu(struct request *rq)
{
    return (struct scsi_cmnd *)(rq + 1);
}

void scsi_done(struct scsi_cmnd *cmd);
void scsi_end_request(struct scsi_cmnd *cmd);

#endif
