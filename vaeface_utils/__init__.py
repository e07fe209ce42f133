"""Helpers for the vaeface course: variational autoencoders, taught through faces.

Importing this package does nothing beyond defining names: it downloads nothing,
trains nothing, seeds nothing and leaves matplotlib's settings alone. TensorFlow
is imported only by ``model`` and the modules built on it (``inference``,
``callbacks``, notebook 06's models), so the data and maths helpers work
without it.

Modules
-------
config       fast mode, seeding, and where data and caches live
data         the AT&T/ORL faces: loading, checks, per-person splits
elbo         KL, log-likelihoods, the ELBO, the IWAE bound (NumPy reference formulas)
units        nats, bits per dimension, the discretisation correction
ppca         probabilistic PCA: exact likelihood, posterior and ELBO
model        the Keras 3 VAE: sampling layer, encoder, decoder, ``VAE`` model
inference    the VAE's NumPy helpers: codes, images, ELBOs, importance weights
callbacks    Keras callbacks: stop on a NaN loss, log each epoch, one-line progress
training_settings
             every hyper-parameter of a trained VAE, and the course's choice
training     the input pipeline and one training loop, with or without validation images
model_cache  trained VAEs cached under a key that covers settings, data, code and versions
amortisation optimising one face's posterior; importance weights under any Gaussian proposal;
             the IWAE bound for each K from one set of log-weights
aggregate    the aggregate posterior against the prior: the KL term's two parts
remedies     KL warm-up and free bits, two remedies for posterior collapse
augment      data augmentation: moved, turned and mirrored copies of training faces
repair       filling a covered part of a face: mean face, PPCA, VAE
features     pixels, eigenfaces, fisherfaces, encoder features (scikit-learn transformers)
identification
             classifiers, identification accuracy, repeated per-person splits
verification same/different pairs, ROC, AUC, equal error rate
reporting    results tables, literature numbers marked as quoted
protocol     choices made on validation, paired comparisons with intervals
latent_features
             per-split VAEs whose codes are features for recognition
image_metrics
             sharpness (gradient energy, spectra), SSIM, reconstruction errors
perturbations
             shifts, rotations, lighting, occlusion of face images
robustness   recognition of perturbed query faces
latent_diagnostics
             active units, KL per latent dimension, sampled codes
privacy      membership inference: does a model give away its training faces?
results      the notebooks' results records
labelled     VAEs trained on (images, people): their base class, grouped batches, cache
conditional_prior, supervised_head, split_code
             three ways to make a VAE's code about identity (notebook 06)
cnn          a small discriminative CNN, the reference for notebook 06
identity_protocol
             notebook 06's validation curves, classifier choice, new-people scores
plotting     image grids and curves; each function takes and returns an Axes
explorer     an interactive latent explorer (ipywidgets)
checks       self-checks for the exercises at the end of each notebook
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
