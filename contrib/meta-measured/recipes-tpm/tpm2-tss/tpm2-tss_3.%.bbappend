# measured-native (measured predict in image builds) links tpm2-tss.
# meta-tpm's tpm2-tss 4.x (scarthgap) is already BBCLASSEXTENDed to native;
# 3.x (kirkstone) is not.
BBCLASSEXTEND = "native"
