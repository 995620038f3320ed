// SPDX-License-Identifier: GPL-2.0
/* kvm_exit's reason as every recording prints it (collect/recording.c
 * rec_exit_reason): the kernel's names (arch/x86/include/uapi/asm/vmx.h
 * VMX_EXIT_REASONS, svm.h SVM_EXIT_REASONS), with 5.8's flags after a VMX
 * one, 2.6's lower-case VMX names (vmx.c vmx_exit_reasons_str),
 * libtraceevent's kvm plugin's (plugins/plugin_kvm.c: EXIT_* for SVM,
 * "UNKNOWN (n)"), a code without a name; a name of both ISAs decided by
 * the ISA the recording showed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "recording.h"

static void is(const char *text, __u32 *seen, __u32 want_isa, __u32 want_reason)
{
	__u32 isa = 99, reason = 99;

	assert_int_equal(rec_exit_reason(text, seen, &isa, &reason), 1);
	assert_int_equal(isa, want_isa);
	assert_int_equal(reason, want_reason);
}

static void exit_reasons(void **state)
{
	__u32 seen = ISA_UNKNOWN, isa, reason;

	is("HLT", &seen, ISA_VMX, 12);
	is("EPT_VIOLATION", &seen, ISA_VMX, 48);
	is("INVALID_STATE FAILED_VMENTRY", &seen, ISA_VMX, 33);
	is("0x4a FAILED_VMENTRY", &seen, ISA_VMX, 0x4a); /* no name, flags */
	is("UNKNOWN (74)", &seen, ISA_VMX, 74);
	is("halt", &seen, ISA_VMX, 12);		/* 2.6 */
	is("cpuid", &seen, ISA_VMX, 10);	/* VMX's and SVM's: the recording is VMX */
	seen = ISA_UNKNOWN;
	is("hlt", &seen, ISA_SVM, 0x78);
	is("cpuid", &seen, ISA_SVM, 0x72);	/* the recording is SVM */
	is("EXIT_NPF", &seen, ISA_SVM, 0x400);
	is("EXIT_EXCP_PF", &seen, ISA_SVM, 0x4e);
	is("PF excp", &seen, ISA_SVM, 0x4e);
	is("0x403", &seen, ISA_SVM, 0x403);
	assert_int_equal(rec_exit_reason("no such reason", &seen, &isa, &reason), 0);
	assert_int_equal(rec_exit_reason("", &seen, &isa, &reason), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
