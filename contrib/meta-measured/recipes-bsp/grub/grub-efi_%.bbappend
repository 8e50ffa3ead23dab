# The live image's tboot entry needs multiboot2 (and gzio for tboot.gz) in
# the standalone GRUB EFI image that image-live puts on the medium.
GRUB_BUILDIN:append = " multiboot2 gzio"
