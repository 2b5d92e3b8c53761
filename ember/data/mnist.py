"""MNIST and Fashion-MNIST from their IDX files (raw or gzipped), as torchvision exposes them.

The whole split is kept as one uint8 array: `.data` is an (N, 28, 28) uint8 Tensor and
`.targets` an (N,) int64 Tensor. `dataset[i]` gives (image, label), the image a (28, 28) uint8
numpy array passed through `transform` when one is given. For training, `tensors()` or
`as_tensor_dataset()` convert the whole split at once (no per-sample Python work), and a
DataLoader over that TensorDataset batches by fancy indexing.
"""
import os

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset, TensorDataset
from .idx import read_idx

FASHION_MNIST_ROOT = "/usr/share/datasets/fashion-mnist"

_SPLIT_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _candidates(directory, name):
    """The spellings a file is found under: as published, gzipped, and with a dot before 'idx'
    (train-images.idx3-ubyte, as some mirrors name it)."""
    dotted = name.replace("-idx", ".idx")
    return [os.path.join(directory, n) for n in (name, name + ".gz", dotted, dotted + ".gz")]


class MNIST(Dataset):
    """The MNIST digits: 60,000 training and 10,000 test images, 28 x 28, labels 0..9.

    MNIST(root, train=True, transform=None, target_transform=None, download=False)

    root: a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or gzipped (.gz); torchvision's
    layout root/MNIST/raw/ is found as well. ember never downloads: download=True only changes
    nothing when the files are there, and the error says where to get them when they are not.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    mean, std = 0.1307, 0.3081  # of the training pixels scaled to [0, 1]
    default_root = None
    how_to_get = ("download the four files, e.g. from https://ossci-datasets.s3.amazonaws.com/"
                  "mnist/ (the torchvision mirror), and pass root= (or --data-dir) naming their "
                  "folder")

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        name = type(self).__name__
        if root is None:
            root = self.default_root
        if root is None:
            raise TypeError(f"{name}: pass root=, the folder holding the IDX files; to get them, "
                            f"{self.how_to_get}")
        self.root = os.fspath(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images_path, labels_path = self._find_files()
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(f"{name}: {images_path}: expected (N, rows, cols) uint8 images, got "
                             f"shape {images.shape} of {images.dtype}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{name}: {labels_path}: expected (N,) uint8 labels, got shape "
                             f"{labels.shape} of {labels.dtype}")
        if len(images) != len(labels):
            raise ValueError(f"{name}: {len(images)} images in {images_path} but {len(labels)} "
                             f"labels in {labels_path}")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{name}: {labels_path}: label {labels.max()} is out of range "
                             f"0..{len(self.classes) - 1}")
        self.images_path, self.labels_path = images_path, labels_path
        self.data = Tensor(images)
        self.targets = Tensor(labels.astype(np.int64))

    def _find_files(self):
        name = type(self).__name__
        dirs = [self.root, os.path.join(self.root, name, "raw"), os.path.join(self.root, "raw")]
        found, missing = [], []
        for filename in _SPLIT_FILES[self.train]:
            path = next((p for d in dirs for p in _candidates(d, filename) if os.path.isfile(p)),
                        None)
            if path is None:
                missing.append(filename)
            found.append(path)
        if missing:
            looked = " and ".join(f"{os.path.join(self.root, f)} (or {f}.gz)" for f in missing)
            split = "training" if self.train else "test"
            absent = "" if os.path.isdir(self.root) else f" ({self.root} does not exist)"
            raise FileNotFoundError(
                f"{name}: the {split} split is missing{absent}: looked for {looked}, also under "
                f"{os.path.join(self.root, name, 'raw')}. To get the files, {self.how_to_get}.")
        return found

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        image = self.data.data[index]
        target = int(self.targets.data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def tensors(self, flatten=False, normalize=False, dtype=np.float32):
        """The whole split as (images, labels) Tensors in one vectorised pass.

        images: pixels / 255 in [0, 1] (as ToTensor), shape (N, 1, rows, cols), or (N, rows *
        cols) with flatten=True; normalize=True then applies (x - mean) / std with the class's
        training-set mean and std (as Normalize). labels: (N,) int64. `transform` and
        `target_transform` are not applied.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"tensors: dtype must be a floating dtype, got {dtype}")
        images = self.data.data
        x = np.empty(images.shape, dtype=dtype)
        np.divide(images, dtype.type(255), out=x, dtype=dtype)
        if normalize:
            x -= dtype.type(self.mean)
            x /= dtype.type(self.std)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return Tensor(x), Tensor(self.targets.data.copy())

    def as_tensor_dataset(self, flatten=False, normalize=False, dtype=np.float32):
        """`TensorDataset(*self.tensors(...))`: the split ready for DataLoader's fast path."""
        return TensorDataset(*self.tensors(flatten=flatten, normalize=normalize, dtype=dtype))

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, root={self.root!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28 x 28, in
    10 classes; the same file names and format as MNIST.

    FashionMNIST(root='/usr/share/datasets/fashion-mnist', train=True, transform=None,
                 target_transform=None, download=False)

    The default root is where Debian's package dataset-fashion-mnist installs the gzipped files.
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    mean, std = 0.2860, 0.3530
    default_root = FASHION_MNIST_ROOT
    how_to_get = (f"install the Debian package (as root: apt-get install dataset-fashion-mnist, "
                  f"which puts them in {FASHION_MNIST_ROOT}), or pass root= (or --data-dir) "
                  f"naming a folder that holds them")
