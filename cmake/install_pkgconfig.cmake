# Writes slabdbg.pc for the prefix being installed to and installs it in
# <libdir>/pkgconfig.  Run by cmake --install (install(SCRIPT) in the
# top-level CMakeLists.txt, which sets the SLABDBG_PC_* variables first).
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${SLABDBG_PC_${dir}}")
    set(PC_${dir} "${SLABDBG_PC_${dir}}")
    set(PC_${dir}_ABS "${SLABDBG_PC_${dir}}")
  else()
    set(PC_${dir} "\${prefix}/${SLABDBG_PC_${dir}}")
    set(PC_${dir}_ABS "${CMAKE_INSTALL_PREFIX}/${SLABDBG_PC_${dir}}")
  endif()
endforeach()
set(PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(PC_VERSION "${SLABDBG_PC_VERSION}")
configure_file("${SLABDBG_PC_TEMPLATE}" "${SLABDBG_PC_OUT}" @ONLY)
file(INSTALL DESTINATION "${PC_LIBDIR_ABS}/pkgconfig" TYPE FILE FILES "${SLABDBG_PC_OUT}")
