"""Training: fit/evaluate/predict, History, callbacks, metrics and plots."""
from .callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from .history import History
from .loop import NonFiniteError, TrainState, evaluate, fit, format_record, predict
from .metrics import (accuracy, confusion_matrix, format_confusion_matrix, precision_recall_f1,
                      roc_auc_score)
from .plot import plot_history, plot_misclassified
