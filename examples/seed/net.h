#ifndef SEED_NET_H
#define SEED_NET_H

#include <stdint.h>

#define SKB_DATA_SIZE 1024

struct sk_buff {
    struct sk_buff *next;
    unsigned char *head;
    unsigned int len;
};

/* At the end of the data buffer, as in the kernel. */
struct skb_shared_info {
    uint8_t flags;
    uint8_t meta_len;
    uint8_t nr_frags; /* 0x2c2 */
    uint8_t tx_flags;
    unsigned short gso_size; /* 0x2c4 */
    unsigned short gso_segs;
    struct sk_buff *frag_list; /* 0x2c8 */
};
#define SKB_SHINFO_OFFSET 0x2c0
_Static_assert(SKB_SHINFO_OFFSET + __builtin_offsetof(struct skb_shared_info, frag_list) == 0x2c8,
               "frag_list sits where the driver writes");

static inline struct skb_shared_info *skb_shinfo(struct sk_buff *skb)
{
    return (struct skb_shared_info *)(skb->head + SKB_SHINFO_OFFSET);
}

struct sk_buff *alloc_skb(unsigned int len);
void skb_release_data(struct sk_buff *skb);
void napi_consume_skb(struct sk_buff *skb);

#endif
