/* A hostile Xen PVH guest: bad pointers, ports, vCPU ids, indexes and
 * lengths in hypercalls, then out-of-range ring indexes on its console.
 * domus-vmm must fail each call (its result is printed on port 0xE9 as
 * "name=HEX") and keep running; the guest then powers off through ACPI S5.
 * 32-bit flat protected mode, paging off, as the PVH entry starts it, so the
 * arguments go in EBX, ECX, EDX, ESI, EDI (xen/include/public/arch-x86). */
#define DEBUG_PORT 0xe9
#define PM1A_CNT 0x604          /* vmm/boot/acpi.h ACPI_PM1A_CNT_PORT */
#define S5 ((5 << 10) | (1 << 13))
#define SCRATCH 0x8000          /* argument structs live here (low RAM) */
#define HCALL_NAME(n) movl $name_##n, name ; .pushsection .data ; name_##n: .asciz #n ; .popsection

	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 8, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad _start

	.text
	.code32
	.globl _start
_start:
	mov $0x7000, %esp
	/* VMMCALL on AMD, VMCALL elsewhere: KVM wants the host's instruction. */
	xor %eax, %eax
	cpuid
	movl $0, amd
	cmp $0x68747541, %ebx   /* "Auth" */
	jne 1f
	movl $1, amd
1:
	lea banner, %esi
	call puts

	/* memory_op(add_to_physmap) with a pointer outside guest RAM */
	HCALL_NAME(a1) ; mov $12, %eax ; mov $7, %ebx ; mov $0xdead0000, %ecx ; call hcall
	/* memory_op(add_to_physmap) of grant frame 100000 */
	movw $0x7ff0, SCRATCH ; movw $0, SCRATCH+2 ; movl $1, SCRATCH+4
	movl $100000, SCRATCH+8 ; movl $0, SCRATCH+12 ; movl $0x90000, SCRATCH+16 ; movl $0, SCRATCH+20
	HCALL_NAME(a2) ; mov $12, %eax ; mov $7, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* memory_map with a buffer that wraps around 4 GiB */
	movl $128, SCRATCH ; movl $0xfffffff0, SCRATCH+8 ; movl $0xffffffff, SCRATCH+12
	HCALL_NAME(a3) ; mov $12, %eax ; mov $9, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* decrease_reservation of a billion extents from a bad list */
	movl $0xdead0000, SCRATCH ; movl $0, SCRATCH+4 ; movl $1000000000, SCRATCH+8 ; movl $0, SCRATCH+12
	movl $0, SCRATCH+16 ; movl $0, SCRATCH+20 ; movw $0x7ff0, SCRATCH+24
	HCALL_NAME(a4) ; mov $12, %eax ; mov $1, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* populate_physmap of frame 2^52, whose address would wrap to 0: none done */
	movl $SCRATCH+0x100, SCRATCH ; movl $0, SCRATCH+4 ; movl $1, SCRATCH+8 ; movl $0, SCRATCH+12
	movl $0, SCRATCH+16 ; movl $0, SCRATCH+20 ; movw $0x7ff0, SCRATCH+24
	movl $0, SCRATCH+0x100 ; movl $0x100000, SCRATCH+0x104
	HCALL_NAME(a5) ; mov $12, %eax ; mov $6, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* event channels: send on port 5000, bind VIRQ ~0, unmask port 0, op 99 */
	movl $5000, SCRATCH
	HCALL_NAME(e1) ; mov $32, %eax ; mov $4, %ebx ; mov $SCRATCH, %ecx ; call hcall
	movl $0xffffffff, SCRATCH ; movl $0, SCRATCH+4
	HCALL_NAME(e2) ; mov $32, %eax ; mov $1, %ebx ; mov $SCRATCH, %ecx ; call hcall
	movl $0, SCRATCH
	HCALL_NAME(e3) ; mov $32, %eax ; mov $9, %ebx ; mov $SCRATCH, %ecx ; call hcall
	HCALL_NAME(e4) ; mov $32, %eax ; mov $99, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* bind_ipi to vCPU 1000, close port 4095 (never opened) */
	movl $1000, SCRATCH
	HCALL_NAME(e5) ; mov $32, %eax ; mov $7, %ebx ; mov $SCRATCH, %ecx ; call hcall
	movl $4095, SCRATCH
	HCALL_NAME(e6) ; mov $32, %eax ; mov $3, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* vcpu_op on vCPU 1000; vcpu_info at a frame far outside RAM */
	HCALL_NAME(v1) ; mov $24, %eax ; mov $10, %ebx ; mov $1000, %ecx ; mov $SCRATCH, %edx ; call hcall
	movl $0xffffff, SCRATCH ; movl $0, SCRATCH+4 ; movl $4000, SCRATCH+8
	HCALL_NAME(v2) ; mov $24, %eax ; mov $10, %ebx ; mov $0, %ecx ; mov $SCRATCH, %edx ; call hcall
	/* vcpu_info at frame 2^52, offset 0: that address would wrap to 0 */
	movl $0, SCRATCH ; movl $0x100000, SCRATCH+4 ; movl $0, SCRATCH+8
	HCALL_NAME(v3) ; mov $24, %eax ; mov $10, %ebx ; mov $0, %ecx ; mov $SCRATCH, %edx ; call hcall
	/* VIRQ_TIMER bound, its port closed, then a one-shot timer: KVM must
	 * no longer fire on that port, and the call fails for want of one */
	movl $0, SCRATCH ; movl $0, SCRATCH+4
	HCALL_NAME(t1) ; mov $32, %eax ; mov $1, %ebx ; mov $SCRATCH, %ecx ; call hcall
	movl SCRATCH+8, %eax ; movl %eax, SCRATCH
	HCALL_NAME(t2) ; mov $32, %eax ; mov $3, %ebx ; mov $SCRATCH, %ecx ; call hcall
	movl $0, SCRATCH ; movl $0, SCRATCH+4 ; movl $0, SCRATCH+8 ; movl $0, SCRATCH+12
	HCALL_NAME(t3) ; mov $24, %eax ; mov $8, %ebx ; mov $0, %ecx ; mov $SCRATCH, %edx ; call hcall
	/* grant_table_op with 1000 operations; hvm_op param 10000 */
	HCALL_NAME(g1) ; mov $20, %eax ; mov $6, %ebx ; mov $SCRATCH, %ecx ; mov $1000, %edx ; call hcall
	movw $0x7ff0, SCRATCH ; movl $10000, SCRATCH+4 ; movl $1, SCRATCH+8 ; movl $0, SCRATCH+12
	HCALL_NAME(h1) ; mov $34, %eax ; mov $0, %ebx ; mov $SCRATCH, %ecx ; call hcall
	/* xen_version(get_features) into memory beyond RAM */
	HCALL_NAME(x1) ; mov $17, %eax ; mov $6, %ebx ; mov $0x7ffff000, %ecx ; call hcall
	/* console_io write of 4 GiB from outside RAM */
	HCALL_NAME(c1) ; mov $18, %eax ; mov $0, %ebx ; mov $0xffffffff, %ecx ; mov $0xdead0000, %edx ; call hcall
	/* sched_op(shutdown) with a bad pointer; unknown hypercalls */
	HCALL_NAME(s1) ; mov $29, %eax ; mov $2, %ebx ; mov $0xdead0000, %ecx ; call hcall
	HCALL_NAME(u1) ; mov $55, %eax ; call hcall
	HCALL_NAME(u2) ; mov $0xffffffff, %eax ; call hcall

	/* The console ring's producer index far beyond its consumer: the
	 * monitor must resync, not read 2 GiB (xencons_interface out_prod). */
	movl $0x7fffffff, 0xfefff000 + 3084
	mov $2000000, %ecx
3:	loop 3b

	lea done, %esi
	call puts
	mov $PM1A_CNT, %dx
	mov $S5, %ax
	outw %ax, %dx
2:	hlt
	jmp 2b

/* hcall: issue the hypercall set up in the registers, print "NAME=RESULT " */
hcall:
	cmpl $0, amd
	je 1f
	vmmcall
	jmp 2f
1:	vmcall
2:	push %eax
	mov name, %esi
	call puts
	mov $'=', %al
	outb %al, $DEBUG_PORT
	pop %eax
	call puthex
	mov $' ', %al
	outb %al, $DEBUG_PORT
	ret

puts:	/* ESI: NUL-terminated string */
	lodsb
	test %al, %al
	jz 1f
	outb %al, $DEBUG_PORT
	jmp puts
1:	ret

puthex:	/* EAX as 8 hex digits */
	mov $8, %ecx
	mov %eax, %edx
1:	rol $4, %edx
	mov %edx, %eax
	and $15, %eax
	mov hexdigits(%eax), %al
	outb %al, $DEBUG_PORT
	loop 1b
	ret

	.data
amd:	.long 0
name:	.long 0
hexdigits: .ascii "0123456789abcdef"
banner:	.asciz "HOSTILE-START "
done:	.asciz "\nHOSTILE-DONE\n"
