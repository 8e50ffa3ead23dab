# measured-native (measured predict in image builds) links tpm2-tss.
# meta-tpm's tpm2-tss 4.x (scarthgap) is already extended to native; 3.x
# (kirkstone) is not.  One append for both: a version-named one would dangle
# (an error) on the release without that version.
BBCLASSEXTEND:append = "${@' native' if d.getVar('PV').startswith('3.') else ''}"
