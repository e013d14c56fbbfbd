module cbir

go 1.19
