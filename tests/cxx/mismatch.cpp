// One C++ allocation bug per mode, as run_cxx.py expects them: each mode
// frees an object through the wrong family or with the wrong size, or (the
// "clean_*" modes) does everything right and must report nothing.  Built
// with -O0, so each helper keeps its frame and names the stacks.
//
// Modes:
//   new_free           new int, free()              alloc_dealloc_mismatch
//   malloc_delete      malloc, delete               alloc_dealloc_mismatch
//   new_array_delete   new int[], delete            alloc_dealloc_mismatch
//   class_array_delete new Widget[] (with a destructor, so behind an array
//                      cookie), delete of its first element
//   new_delete_array   new int, delete[]            alloc_dealloc_mismatch
//   malloc_delete_array malloc, delete[]            alloc_dealloc_mismatch
//   sized_delete       new Small, sized delete as Large  sized_delete_mismatch
//   aligned_sized      aligned new, aligned sized delete of the wrong size
//   clean_pairs        every operator with its own delete (sized, aligned,
//                      nothrow), and containers
//   clean_failure      std::bad_alloc, the new_handler, nothrow's NULL
//   throw_through      an exception whose unwinding runs a destructor that
//                      makes a report: the exception still arrives
//   string_waf         a write into a std::string's buffer after the string
//                      was deleted: its tracks name the program's functions,
//                      not the C++ runtime's (_M_create, _M_mutate, ...)
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" unsigned long slabdbg_report_count(void) __attribute__((weak));

namespace shop {

struct Widget {
    int parts[30];
    Widget() { std::memset(parts, 1, sizeof parts); }
    ~Widget() { parts[0] = 0; }
};

struct Small {
    long a;
};
struct Large {
    long a[4];
};

template <typename T> struct Factory {
    __attribute__((noinline)) static T *make() { return new T(); }
    __attribute__((noinline)) static T *make_array(std::size_t n) { return new T[n]; }
};

__attribute__((noinline)) int *make_int() { return new int(42); }
__attribute__((noinline)) int *make_ints() { return new int[25]; }
__attribute__((noinline)) void *make_raw() { return std::malloc(40); }
__attribute__((noinline)) void release_with_free(void *p) { std::free(p); }
__attribute__((noinline)) void release_with_delete(int *p) { delete p; }
__attribute__((noinline)) void release_with_delete_array(int *p) { delete[] p; }
__attribute__((noinline)) void release_widget(Widget *w) { delete w; }
__attribute__((noinline)) void release_as_large(Small *s)
{
    ::operator delete(static_cast<void *>(s), sizeof(Large));
}
__attribute__((noinline)) void release_aligned_wrong(void *p)
{
    ::operator delete(p, 100, std::align_val_t(64));
}

struct Guard {
    int *owned;
    ~Guard() { release_with_free(owned); } // new'd, freed: a report mid-unwind
};

__attribute__((noinline)) void throws_with_guard()
{
    Guard g{make_int()};
    throw std::runtime_error("through the report");
}

__attribute__((noinline)) std::string *build_text()
{
    std::string *s = new std::string(40, 'x');
    s->append(400, 'y'); // the buffer grows inside libstdc++
    return s;
}
__attribute__((noinline)) void drop_text(std::string *s) { delete s; }

int handler_calls;
void counting_handler()
{
    handler_calls++;
    std::set_new_handler(nullptr); // the next failure throws
}

} // namespace shop

static const std::size_t impossible = static_cast<std::size_t>(1) << 62;

static int clean_pairs()
{
    using namespace shop;
    delete Factory<Small>::make();
    delete[] Factory<Widget>::make_array(3);
    delete[] make_ints();
    std::free(make_raw());
    Small *s = new Small;
    ::operator delete(s, sizeof(Small));
    int *a = new int[7];
    ::operator delete[](a, 7 * sizeof(int));
    void *al = ::operator new(100, std::align_val_t(64));
    ::operator delete(al, 100, std::align_val_t(64));
    void *al2 = ::operator new[](300, std::align_val_t(128));
    ::operator delete[](al2, std::align_val_t(128));
    void *nt = ::operator new(10, std::nothrow);
    ::operator delete(nt, std::nothrow);
    void *nta = ::operator new[](10, std::nothrow);
    ::operator delete[](nta);
    std::vector<std::string> v;
    std::map<int, std::unique_ptr<Widget>> m;
    for (int i = 0; i < 1000; i++) {
        v.push_back(std::string(static_cast<std::size_t>(i % 64) + 20, 'x'));
        m[i] = std::make_unique<Widget>();
    }
    auto sp = std::make_shared<Large>();
    return v.size() == 1000 && m.size() == 1000 && sp ? 0 : 1;
}

static int clean_failure()
{
    int bad = 0;
    try {
        void *p = ::operator new(impossible);
        (void)p;
        bad |= 1;
    } catch (const std::bad_alloc &) {
    }
    try {
        void *p = ::operator new[](impossible, std::align_val_t(64));
        (void)p;
        bad |= 2;
    } catch (const std::bad_alloc &) {
    }
    if (::operator new(impossible, std::nothrow) != nullptr)
        bad |= 4;
    if (::operator new[](impossible, std::align_val_t(32), std::nothrow) != nullptr)
        bad |= 8;
    // the new_handler: called once (it clears itself), then bad_alloc
    std::set_new_handler(shop::counting_handler);
    try {
        void *p = ::operator new(impossible);
        (void)p;
        bad |= 16;
    } catch (const std::bad_alloc &) {
    }
    if (shop::handler_calls != 1)
        bad |= 32;
    // nothrow with a handler: the handler runs, then NULL (no exception)
    std::set_new_handler(shop::counting_handler);
    if (::operator new(impossible, std::nothrow) != nullptr)
        bad |= 64;
    if (shop::handler_calls != 2)
        bad |= 128;
    std::printf("failure_checks=%d\n", bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    using namespace shop;
    std::string mode = argc > 1 ? argv[1] : "";
    int status = 0;
    if (mode == "new_free") {
        release_with_free(make_int());
    } else if (mode == "malloc_delete") {
        release_with_delete(static_cast<int *>(make_raw()));
    } else if (mode == "new_array_delete") {
        release_with_delete(make_ints());
    } else if (mode == "class_array_delete") {
        release_widget(Factory<Widget>::make_array(4));
    } else if (mode == "new_delete_array") {
        release_with_delete_array(make_int());
    } else if (mode == "malloc_delete_array") {
        release_with_delete_array(static_cast<int *>(make_raw()));
    } else if (mode == "sized_delete") {
        release_as_large(Factory<Small>::make());
    } else if (mode == "aligned_sized") {
        release_aligned_wrong(::operator new(64, std::align_val_t(64)));
    } else if (mode == "clean_pairs") {
        status = clean_pairs();
    } else if (mode == "clean_failure") {
        status = clean_failure();
    } else if (mode == "string_waf") {
        std::string *s = build_text();
        char *raw = &(*s)[0];
        drop_text(s);
        raw[10] = 'Z';
        auto validate = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "slabdbg_validate"));
        std::printf("validate=%d\n", validate ? validate() : -1);
    } else if (mode == "throw_through") {
        try {
            throws_with_guard();
        } catch (const std::runtime_error &e) {
            std::printf("caught=%s\n", e.what());
        }
    } else {
        std::fprintf(stderr, "unknown mode '%s'\n", mode.c_str());
        return 2;
    }
    std::printf("reports=%lu\ndone\n", slabdbg_report_count ? slabdbg_report_count() : 0);
    return status;
}
