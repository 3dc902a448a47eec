// operator new/delete in all their forms: scalar and array, with
// constructors/destructors counted, over-aligned types (alignas 64, 256,
// 4096), explicit std::align_val_t, nothrow new, and std::bad_alloc for
// impossible sizes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "testutil.h"

namespace {

int live_objects = 0;

struct Tracked {
    std::uint64_t value;
    unsigned char pad[40];
    explicit Tracked(std::uint64_t v = 7) : value(v)
    {
        std::memset(pad, static_cast<int>(v & 0xff), sizeof pad);
        ++live_objects;
    }
    ~Tracked() { --live_objects; }
    bool ok() const
    {
        for (unsigned char c : pad)
            if (c != static_cast<unsigned char>(value & 0xff))
                return false;
        return true;
    }
};

template <std::size_t A> struct alignas(A) Aligned {
    unsigned char data[A + 8];
    Aligned() { std::memset(data, 0x5C, sizeof data); }
};

bool aligned_to(const void *p, std::size_t a)
{
    return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

void test_scalar_and_array()
{
    std::vector<Tracked *> objs;
    for (int i = 0; i < 20000; i++)
        objs.push_back(new Tracked(static_cast<std::uint64_t>(i)));
    CHECK(live_objects == 20000, "live_objects = %d", live_objects);
    for (std::size_t i = 0; i < objs.size(); i++)
        CHECK(objs[i]->value == i && objs[i]->ok(), "object %zu corrupted", i);
    for (Tracked *t : objs)
        delete t;
    CHECK(live_objects == 0, "after delete live_objects = %d", live_objects);

    for (std::size_t n = 0; n < 3000; n += 7) {
        Tracked *arr = new Tracked[n];
        CHECK(live_objects == static_cast<int>(n), "new Tracked[%zu] built %d", n, live_objects);
        for (std::size_t i = 0; i < n; i++)
            CHECK(arr[i].value == 7 && arr[i].ok(), "element %zu of %zu bad", i, n);
        delete[] arr;
        CHECK(live_objects == 0, "delete[] left %d objects", live_objects);
    }
    // arrays of trivial types of every small size
    for (std::size_t n = 1; n < 5000; n++) {
        char *c = new char[n];
        std::memset(c, static_cast<int>(n), n);
        delete[] c;
    }
}

template <std::size_t A> void test_overaligned()
{
    std::vector<Aligned<A> *> v;
    for (int i = 0; i < 200; i++) {
        auto *p = new Aligned<A>;
        CHECK(aligned_to(p, A), "new alignas(%zu) object at %p", A, static_cast<void *>(p));
        v.push_back(p);
    }
    for (auto *p : v) {
        for (unsigned char c : p->data)
            if (c != 0x5C) {
                CHECK(false, "alignas(%zu) object corrupted", A);
                break;
            }
        delete p;
    }
    auto *arr = new Aligned<A>[10];
    CHECK(aligned_to(arr, A), "new alignas(%zu)[10] at %p", A, static_cast<void *>(arr));
    delete[] arr;
    auto up = std::make_unique<Aligned<A>>();
    CHECK(aligned_to(up.get(), A), "make_unique alignas(%zu) misaligned", A);
}

void test_explicit_align_val()
{
    for (std::size_t a = 1; a <= (std::size_t(1) << 16); a <<= 1) {
        void *p = ::operator new(100, std::align_val_t(a));
        CHECK(aligned_to(p, a), "operator new(100, align %zu) = %p", a, p);
        std::memset(p, 0x11, 100);
        ::operator delete(p, std::align_val_t(a));
        void *q = ::operator new[](1000, std::align_val_t(a), std::nothrow);
        CHECK(q && aligned_to(q, a), "operator new[](1000, align %zu, nothrow) = %p", a, q);
        ::operator delete[](q, std::align_val_t(a));
    }
}

void test_failure_modes()
{
    volatile std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    bool threw = false;
    try {
        void *p = ::operator new(huge);
        ::operator delete(p);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "operator new(SIZE_MAX/2) did not throw std::bad_alloc");
    void *q = ::operator new(huge, std::nothrow);
    CHECK(q == nullptr, "nothrow new(SIZE_MAX/2) returned %p", q);
    threw = false;
    try {
        void *p = ::operator new(huge, std::align_val_t(64));
        ::operator delete(p, std::align_val_t(64));
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw, "aligned operator new(SIZE_MAX/2) did not throw std::bad_alloc");
    // allocation still works afterwards
    auto *t = new Tracked(3);
    CHECK(t->ok(), "new after failures broken");
    delete t;
}

} // namespace

int main()
{
    test_begin("cxx_new_delete");
    test_scalar_and_array();
    test_overaligned<64>();
    test_overaligned<256>();
    test_overaligned<4096>();
    test_explicit_align_val();
    test_failure_modes();
    return test_finish();
}
