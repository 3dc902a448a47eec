/* Fixture for the source scan: constants equal to 0x106 in several forms,
 * and some that must not be taken for one. */
#ifndef FIXTURE_OWNER_H
#define FIXTURE_OWNER_H

enum owner {
    OWNER_NONE,
    OWNER_MIDLEVEL = 0x101,
    OWNER_LOWLEVEL,
    OWNER_ERROR,
    OWNER_SKIP = OWNER_ERROR + 2,
    OWNER_FIRMWARE, /* 0x106 by implicit increment */
    OWNER_LAST
};

static const unsigned int FW_MAGIC = 0x106u;
const int NOT_IT = 0x107;
static const char *fw_name = "0x106";

#define FW_SHIFTED (1u << 8 | 0x6) // 0x106
#define FW_FUNC(x) 0x106
#define FW_CAST ((int)0x106UL)
#define FW_OCTAL 0406
/* #define IN_COMMENT 0x106 */
#define NOT_A_NUMBER "0x106"

#endif
