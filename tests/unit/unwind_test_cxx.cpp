// C++ frames: std::sort with a comparator that checks the stack, and the
// stack seen from a destructor run by the exception unwinder and from a
// catch block.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "unwind_test.h"

namespace
{

int checks_left;

struct Checker {
    ~Checker() { check_stack(); }
};

NOINLINE void thrower(int depth)
{
    Checker c; // checked while the exception passes through
    if (depth <= 0)
        throw std::runtime_error("unwind test");
    thrower(depth - 1);
    __asm__ volatile("" : : : "memory");
}

} // namespace

extern "C" void cxx_sort_capture(void)
{
    std::vector<int> v;
    for (int i = 0; i < 200; i++)
        v.push_back((i * 7919) % 211);
    checks_left = 3;
    std::sort(v.begin(), v.end(), [](int a, int b) {
        if (checks_left > 0) {
            checks_left--;
            check_stack();
        }
        return a < b;
    });
}

extern "C" void cxx_exception_capture(void)
{
    try {
        thrower(3);
    } catch (const std::exception &) {
        check_stack();
    }
}
